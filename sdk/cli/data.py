"""``swarmscope ingest``, ``sessions`` and ``sql``: load OTLP JSON files and query the model.

Thin commands over :mod:`swarmscope.analyzer`; heavy imports (duckdb, rich) happen inside
the commands so ``swarmscope --help`` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from swarmscope.cli import options

FORMATS = ("table", "csv", "json")
MAX_ERRORS_SHOWN = 20

FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="Output format: table, csv or json.")
]


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("sessions")(sessions_command)
    app.command("sql")(sql_command)


def ingest_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories of OTLP JSON (Lines) to read; default: the data directory.",
            show_default=False,
        ),
    ] = None,
    data_dir: options.DataDirOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when the input had any problem.")
    ] = False,
    quiet: options.QuietOption = False,
    follow: Annotated[bool, typer.Option(
        "--follow", help="Keep reading what is new until Ctrl-C or SIGTERM (a live session); "
        "the database is free between rounds, so `report` can run meanwhile.")] = False,
    interval: Annotated[float, typer.Option(
        "--interval", help="Seconds between rounds with --follow.", min=0.1)] = 2.0,
) -> None:
    """Load OTLP JSON files into the session database (only what is new since the last run).

    Example: swarmscope ingest collector-output/ -d ./swarmscope-data
    Example: swarmscope ingest --follow   (keeps up with a running session)
    """
    options.require_analyzer()
    from swarmscope.analyzer.ingest import IngestError, ingest

    if follow:
        from swarmscope.cli.follow import follow_ingest

        raise typer.Exit(follow_ingest(paths or None, options.data_dir(data_dir), interval,
                                       quiet))
    try:
        summary = ingest(paths or None, data_dir=options.data_dir(data_dir))
    except IngestError as exc:
        options.fail(str(exc))
    if not quiet:
        rows = ", ".join(f"{n:,} {table}" for table, n in summary.rows_added.items())
        typer.echo(
            f"read {summary.files_read} of {summary.files_seen} files "
            f"({summary.files_unchanged} unchanged), {summary.lines_read:,} lines, "
            f"{summary.bytes_read / 1e6:,.1f} MB; added {rows}"
        )
        if summary.pending_bytes:
            typer.echo(
                f"left {summary.pending_bytes:,} bytes of incomplete last lines for the next run"
            )
    if summary.errors:
        typer.secho(f"{summary.lines_skipped} problem(s) in the input - a line or record "
                    "skipped, or a value stored as NULL or clamped:", err=True,
                    fg=typer.colors.YELLOW)
        for err in summary.errors[:MAX_ERRORS_SHOWN]:
            typer.echo(f"  {err}", err=True)
        if len(summary.errors) > MAX_ERRORS_SHOWN:
            typer.echo(f"  ... and {len(summary.errors) - MAX_ERRORS_SHOWN} more "
                       "(SELECT * FROM ingest_errors)", err=True)
        if strict:
            raise typer.Exit(1)


def sessions_command(data_dir: options.DataDirOption = None, fmt: FormatOption = "table") -> None:
    """List the recorded sessions, newest first.

    Example: swarmscope sessions --format csv
    """
    options.require_analyzer()
    from swarmscope.analyzer.api import list_sessions

    _run(list_sessions, data_dir, fmt, title="sessions")


def sql_command(
    query: Annotated[str, typer.Argument(help='A SQL query, e.g. "SELECT * FROM agents".')],
    data_dir: options.DataDirOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Run a read-only SQL query against the session database (docs/schema.md).

    Example: swarmscope sql "SELECT agent_name, exit_code FROM agents" --format json
    """
    options.require_analyzer()
    from swarmscope.analyzer.api import query as run_query

    _run(lambda directory: run_query(directory, query), data_dir, fmt)


def _run(read, data_dir: Path | None, fmt: str, title: str | None = None) -> None:
    """Fetch with ``read(data_dir)`` and print the rows; every failure ends with code 2."""
    import duckdb
    from swarmscope.analyzer.db import DatabaseError
    from swarmscope.analyzer.escape import reason

    if fmt not in FORMATS:
        options.fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        result = read(options.data_dir(data_dir))
    except (FileNotFoundError, DatabaseError) as exc:
        options.fail(reason(str(exc), 2000))
    except duckdb.Error as exc:
        options.fail(reason(str(exc).strip(), 2000).replace("\\x0a", "\n"))
    if result is not None:
        _print(*result, fmt, title)


MAX_DEPTH = 64  # nesting shown; deeper values (e.g. built by a query) are cut with a marker


def _cell(value: Any, depth: int = 0) -> Any:
    """A value as JSON-friendly data (datetimes and blobs as text), at most MAX_DEPTH deep,
    so no value makes the JSON encoder recurse without bound."""
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return f"[truncated: nested deeper than {MAX_DEPTH} levels]"
    if isinstance(value, dict):
        return {str(k): _cell(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _text(value: Any) -> str:
    """A value as one line of inert text (control characters and escape codes escaped)."""
    import json

    from swarmscope.analyzer.escape import control

    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        # ensure_ascii: every control character inside the JSON is written as \uNNNN
        return json.dumps(_cell(value), separators=(",", ":"))
    return control(str(_cell(value)))


def _csv(value: Any) -> Any:
    """A CSV cell: numbers as they are, text escaped (escape.csv_cell)."""
    from swarmscope.analyzer.escape import csv_cell

    if value is None or isinstance(value, bool | int | float):
        return "" if value is None else value
    return csv_cell(_text(value))


def _print(columns: list[str], rows: list[tuple], fmt: str, title: str | None) -> None:
    if fmt == "json":
        import json

        data = [{c: _cell(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        # ensure_ascii (the default) writes every control character as \uNNNN
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif fmt == "csv":
        import csv

        from swarmscope.analyzer.escape import csv_cell

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([csv_cell(c) for c in columns])
        writer.writerows([_csv(v) for v in row] for row in rows)
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
        from swarmscope.analyzer.escape import control

        table = Table(title=title, show_lines=False)
        for c in columns:
            table.add_column(escape(control(c)), overflow="fold")
        for row in rows:
            table.add_row(*(escape(_text(v)) for v in row))
        Console().print(table)
        if not rows:
            typer.echo("(no rows)")
