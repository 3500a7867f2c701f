"""``python -m swarmscope.cli``: the same as the ``swarmscope`` command."""

from swarmscope.cli import main

main()
