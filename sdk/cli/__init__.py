"""The ``swarmscope`` command line: one Typer app, thin commands over the libraries.

Each module registers the verbs of one part of the pipeline:

| module | verbs | library it drives |
|---|---|---|
| ``demo`` | demo | ``examples/mesh_swarm.py``, then the analyzer |
| ``watch`` | run, attach | ``swarmscope.watch`` |
| ``data`` | ingest, sessions, sql | ``swarmscope.analyzer`` |
| ``report`` | report, check, compare | ``swarmscope.analyzer`` |
| ``collector`` | collector build/start/stop/status/validate | ``swarmscope.collector`` |
| ``top`` | top | ``swarmscope.watch.live``, ``.live_model``, ``.live_view`` |

Options that mean the same thing everywhere (``--data-dir/-d``, ``--config``, exit codes) live
in :mod:`swarmscope.cli.options`. This package is the only place that imports across sdk,
collector and analyzer. Heavy imports (duckdb, scipy, the OTLP exporters) happen inside the
commands, so ``--help`` and the watcher start quickly.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="swarmscope",
    help=(
        "Does your agent system manage its resources and clean up after itself?\n\n"
        "Record agent lifecycles and per-process resources as OpenTelemetry, "
        "then grade each session from the files.\n\n"
        "Example: swarmscope run -- python my_swarm.py && swarmscope report"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)

COMMAND_MODULES = ("demo", "watch", "data", "report", "collector", "reap", "top", "prune")

for _name in COMMAND_MODULES:
    importlib.import_module(f"swarmscope.cli.{_name}").register(app)


def main() -> None:
    app()
