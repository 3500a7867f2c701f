"""``swarmscope ingest``, ``sessions`` and ``sql``: load OTLP JSON files and query the model.

Heavy imports (duckdb, rich) happen inside the commands so ``swarmscope --help`` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from swarmscope import conventions as C

FORMATS = ("table", "csv", "json")
MAX_ERRORS_SHOWN = 20

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        "-d",
        envvar=C.ENV_DATA_DIR,
        help=f"Data directory (default ./{C.DEFAULT_DATA_DIR}); the database is "
        f"{C.DATABASE_FILE} inside it.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="Output format: table, csv or json.")
]


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("sessions")(sessions_command)
    app.command("sql")(sql_command)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def ingest_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories of OTLP JSON (Lines) to read; default: the data directory.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when any line was skipped.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems.")] = False,
) -> None:
    """Load OTLP JSON files into the session database (only what is new since the last run)."""
    from swarmscope.analyzer.ingest import IngestError, ingest

    try:
        summary = ingest(paths or None, data_dir=data_dir)
    except IngestError as exc:
        _fail(str(exc))
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
        typer.secho(f"skipped {summary.lines_skipped} line(s) or record(s):", err=True,
                    fg=typer.colors.YELLOW)
        for err in summary.errors[:MAX_ERRORS_SHOWN]:
            typer.echo(f"  {err}", err=True)
        if len(summary.errors) > MAX_ERRORS_SHOWN:
            typer.echo(f"  ... and {len(summary.errors) - MAX_ERRORS_SHOWN} more "
                       "(SELECT * FROM ingest_errors)", err=True)
        if strict:
            raise typer.Exit(1)


def sessions_command(data_dir: DataDirOption = None, fmt: FormatOption = "table") -> None:
    """List the recorded sessions, newest first."""
    from swarmscope.analyzer.db import load_sql

    _run_query(load_sql("list_sessions"), data_dir, fmt, title="sessions")


def sql_command(
    query: Annotated[str, typer.Argument(help='A SQL query, e.g. "SELECT * FROM agents".')],
    data_dir: DataDirOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Run a read-only SQL query against the session database (docs/schema.md)."""
    _run_query(query, data_dir, fmt)


def _run_query(query: str, data_dir: Path | None, fmt: str, title: str | None = None) -> None:
    import duckdb
    from swarmscope.analyzer.db import connect

    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        con = connect(data_dir, read_only=True)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except duckdb.Error as exc:
        _fail(f"cannot open the database: {exc}")
    try:
        result = con.execute(query)
        if result.description is None:
            return
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    except duckdb.Error as exc:
        _fail(str(exc).strip())
    finally:
        con.close()
    _print(columns, rows, fmt, title)


def _cell(value: Any) -> Any:
    """A value as JSON-friendly data (datetimes and blobs as text)."""
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _text(value: Any) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(_cell(value), separators=(",", ":"))
    return str(_cell(value))


def _print(columns: list[str], rows: list[tuple], fmt: str, title: str | None) -> None:
    if fmt == "json":
        import json

        data = [{c: _cell(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(v) for v in row] for row in rows)
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for c in columns:
            table.add_column(escape(c), overflow="fold")
        for row in rows:
            table.add_row(*(escape(_text(v)) for v in row))
        Console().print(table)
        if not rows:
            typer.echo("(no rows)")
