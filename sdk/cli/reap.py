"""``swarmscope reap``: end the processes a session left behind (thin over
:mod:`swarmscope.watch.reap`, which holds the safety rules).

SESSION is a session id or a unique prefix of one known in the data directory; without it,
the latest session there (by its watcher's owner file or its newest trace file). A full id not
known there is used as given: the processes carry it even when no telemetry was written.
Exit 0 when done or when there is nothing to reap, 2 on errors (a running session, a process
that could not be ended).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from swarmscope import conventions as c
from swarmscope.cli import options
from swarmscope.watch import reap as reaping

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="List the leftovers; end nothing.")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds between SIGTERM and SIGKILL.")
]


def _record(session_id: str, directory: Path, outcomes: list[reaping.Outcome]) -> None:
    """Write what was ended into the session's own telemetry, as a process of the session
    (the marker in our environment makes this process join it, not start a new one)."""
    import swarmscope

    swarmscope.shutdown()
    os.environ[c.ENV_SESSION_ID] = session_id
    swarmscope.init(service_name="swarmscope-reap", data_dir=directory, monitor=False)
    try:
        reaping.record(swarmscope.session().tracer, outcomes)
    finally:
        swarmscope.shutdown()


def reap(
    session: options.SessionArgument = None,
    dry_run: DryRunOption = False,
    timeout: TimeoutOption = reaping.DEFAULT_TIMEOUT_S,
    data_dir: options.DataDirOption = None,
) -> None:
    """End a finished session's leftover processes, found by the session id in their
    environment (SIGTERM, then SIGKILL after --timeout).

    Example: swarmscope reap --dry-run
    """
    if timeout < 0:
        options.fail("--timeout must be 0 or more seconds")
    directory = options.data_dir(data_dir)
    session_id = options.session(directory, session, unknown_ok=True)
    targets = reaping.find_targets(session_id)
    why = reaping.running_reason(session_id, directory, targets)
    if why is not None:
        options.fail(f"session {session_id} is still running: {why}; nothing was ended")
    if not targets:
        typer.echo(f"session {session_id}: nothing to reap")
        return
    verb = "would end" if dry_run else "ending"
    typer.echo(f"session {session_id}: {verb} {len(targets)} process(es)\n"
               + reaping.format_targets(targets))
    if dry_run:
        return
    outcomes = reaping.end_targets(targets, timeout)
    _record(session_id, directory, outcomes)
    failed = [o for o in outcomes if not o.ended]
    for outcome in outcomes:
        how = "SIGKILL after timeout" if outcome.killed else "SIGTERM"
        line = f"ended by {how}" if outcome.ended else f"NOT ended: {outcome.error}"
        typer.echo(f"  pid {outcome.target.pid} ({outcome.target.name}): {line}")
    if failed:
        print(f"error: {len(failed)} process(es) could not be ended", file=sys.stderr)
        raise typer.Exit(options.ERROR)


def register(app: typer.Typer) -> None:
    app.command("reap")(reap)
