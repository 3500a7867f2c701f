"""Process watching: following any program's process tree (``swarmscope run`` / ``attach``).

``tree`` follows the tree, ``leftovers`` finds what a session left behind, ``watcher`` turns
both into spans.
"""
