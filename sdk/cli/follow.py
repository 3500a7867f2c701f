"""``swarmscope ingest --follow``: re-ingest what is new every few seconds until stopped.

Each round is one ordinary incremental ingest, which opens the database, reads what was
appended and closes it again: between rounds nothing holds the database, so ``report`` (or
``sql``) can read it meanwhile. A round that finds the database busy (another writer) is
reported and retried on the next one. Ctrl-C and SIGTERM end the loop after the current round
with exit code 0.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from swarmscope.cli import options


def follow_ingest(paths: list[Path] | None, data_dir: Path, interval: float,
                  quiet: bool) -> int:
    """Run rounds until stopped; the exit code (0 when stopped by the user)."""
    from swarmscope.analyzer.ingest import IngestError, ingest

    stop = threading.Event()
    previous = _on_stop_signals(stop)
    totals = {"rounds": 0, "rows": 0, "bytes": 0}
    try:
        if not quiet:
            typer.echo(f"following {data_dir} every {interval:g} s (Ctrl-C stops)", err=True)
        while not stop.is_set():
            started = time.monotonic()
            try:
                summary = ingest(paths, data_dir=data_dir, progress=False)
            except IngestError as exc:
                if "does not exist" in str(exc) and not paths:
                    pass  # the session has not written anything yet
                elif _busy(str(exc)):
                    typer.secho(f"round skipped: {exc}", err=True, fg=typer.colors.YELLOW)
                else:
                    options.fail(str(exc))
            else:
                _progress(summary, totals, quiet)
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        _restore(previous)
    if not quiet:
        typer.echo(f"stopped after {totals['rounds']} rounds: {totals['rows']:,} rows, "
                   f"{totals['bytes'] / 1e6:,.1f} MB read", err=True)
    return options.OK


def _busy(message: str) -> bool:
    return any(word in message.lower()
               for word in ("lock", "another swarmscope process", "try again"))


def _progress(summary: Any, totals: dict[str, int], quiet: bool) -> None:
    rows = sum(summary.rows_added.values())
    totals["rounds"] += 1
    totals["rows"] += rows
    totals["bytes"] += summary.bytes_read
    if summary.errors:
        typer.secho(f"{len(summary.errors)} problem(s) in the input this round "
                    "(SELECT * FROM ingest_errors)", err=True, fg=typer.colors.YELLOW)
    if quiet or not rows:
        return
    stamp = time.strftime("%H:%M:%S")
    typer.echo(f"{stamp} +{rows:,} rows from {summary.files_read} file(s), "
               f"{summary.bytes_read / 1e6:,.2f} MB (total {totals['rows']:,} rows)")


def _on_stop_signals(stop: threading.Event) -> dict[int, Any]:
    """SIGINT and SIGTERM set ``stop``: the loop ends after the round in progress."""
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests drive the command from threads)
            pass
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
