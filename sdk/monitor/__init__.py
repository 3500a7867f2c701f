"""Resource monitoring: per-process, system and CPython runtime metrics.

``sampler`` measures, ``instruments`` publishes, ``cpython`` covers the interpreter itself.
"""
