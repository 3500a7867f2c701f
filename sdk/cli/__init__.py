"""The ``swarmscope`` command line: one Typer app; each part of the pipeline registers its verbs.

Heavy imports (duckdb, scipy, the OTLP exporters) happen inside the commands, so ``--help``
and the watcher start quickly.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="swarmscope",
    help=(
        "Does your agent system manage its resources and clean up after itself?\n\n"
        "Record agent lifecycles and per-process resources as OpenTelemetry, "
        "then grade each session from the files."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _register_all() -> None:
    from swarmscope import demo, watcher
    from swarmscope.analyzer import cli_data, cli_report
    from swarmscope.collector import cli as collector_cli

    for module in (demo, watcher, cli_data, cli_report, collector_cli):
        module.register(app)


_register_all()


def main() -> None:
    app()
