"""``swarmscope prune``: free disk by removing (or archiving) telemetry files the database
already holds whole (analyzer/prune.py says exactly when a file qualifies)."""

from __future__ import annotations

from typing import Annotated

import typer
from swarmscope.cli import options


def register(app: typer.Typer) -> None:
    app.command("prune")(prune_command)


def prune_command(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Only files last written longer ago than this (30m, 12h, 7d).")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would go and its bytes; change nothing.")] = False,
    compress: Annotated[bool, typer.Option(
        "--compress", help="Keep a zstd archive (<file>.zst) of each file instead of removing "
        "it outright.")] = False,
    data_dir: options.DataDirOption = None,
    quiet: options.QuietOption = False,
) -> None:
    """Remove telemetry files already fully ingested; never what the database does not hold.

    Example: swarmscope prune --older-than 7d --dry-run
    """
    options.require_analyzer()
    from swarmscope.analyzer.db import DatabaseError
    from swarmscope.analyzer.prune import prune
    from swarmscope.analyzer.window import WindowError, parse_duration

    try:
        age = parse_duration(older_than)
    except WindowError as exc:
        options.fail(f"--older-than: {exc}")
    try:
        result = prune(options.data_dir(data_dir), age, dry_run=dry_run, compress=compress)
    except (FileNotFoundError, DatabaseError) as exc:
        options.fail(str(exc))
    except OSError as exc:
        options.fail(f"prune stopped: {exc.strerror or exc} ({exc.filename})")
    verb = "would remove" if dry_run else ("compressed" if compress else "removed")
    if dry_run or not quiet:
        for path, size in result.files:
            typer.echo(f"{size:>14,}  {path}")
    kept = []
    if result.kept_not_held:
        kept.append(f"{result.kept_not_held} not fully ingested")
    if result.kept_open:
        kept.append(f"{result.kept_open} still open by a process")
    if not quiet:
        archive = (f" into {result.written_bytes / 1e6:,.1f} MB of archives"
                   if compress and not dry_run else "")
        typer.echo(f"{verb} {len(result.files)} file(s), {result.bytes / 1e6:,.1f} MB{archive}"
                   + (f"; kept {', '.join(kept)}" if kept else ""))
