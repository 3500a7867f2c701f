"""The recording API: sessions, agents, tasks and tools as spans; providers and exporters.

``spans`` builds every lifecycle span, ``telemetry`` owns the providers, ``session`` /
``agent`` / ``spawn`` / ``tasks`` are the API, ``instrumentation`` the auto-instrumentation.
"""
