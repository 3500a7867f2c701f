"""``swarmscope run`` and ``swarmscope attach``: thin commands over :mod:`swarmscope.watch`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Annotated

import typer
from swarmscope.cli.options import ERROR, DataDirOption, data_dir, fail
from swarmscope.settings import ConfigError
from swarmscope.watch.leftovers import Leftover
from swarmscope.watch.watcher import (
    DEFAULT_POLL_INTERVAL_S,
    WatchReport,
    attach_process,
    run_command,
)

NOT_STARTED = 127  # the shell's "command not found"
NO_SUCH_PROCESS = 1

SessionOption = Annotated[
    str | None, typer.Option("--session", help="Session id (default: a new one).")
]
IntervalOption = Annotated[
    float | None,
    typer.Option("--interval", help="Metric sample interval in seconds (default 1)."),
]
PollOption = Annotated[
    float, typer.Option("--poll", help="Seconds between process-tree scans.")
]
EventsOption = Annotated[
    bool | None,
    typer.Option(
        "--events/--no-events",
        help="Kernel fork/exit events (needs CAP_NET_ADMIN; default: when permitted).",
    ),
]


def exit_status_for_shell(code: int | None) -> int:
    """The program's exit code, or 128+N when it was killed by signal N (shell convention)."""
    if code is None:
        return 0
    return 128 - code if code < 0 else code


def format_leftovers(leftovers: Iterable[Leftover]) -> str:
    """A plain-text table of left-over processes, for stderr."""
    rows = [("PID", "PPID", "STATE", "AGE", "COMMAND")]
    for item in leftovers:
        state = "zombie" if item.zombie else "orphan"
        command = item.command_line or item.executable_name
        rows.append((str(item.pid), str(item.parent_pid), state, f"{item.age_s:.1f}s", command))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows)


def _print_leftovers(report: WatchReport) -> None:
    if report.leftovers:
        print(
            f"swarmscope: {len(report.leftovers)} process(es) left behind:\n"
            + format_leftovers(report.leftovers),
            file=sys.stderr,
        )


def run(
    command: Annotated[list[str], typer.Argument(help="The program and its arguments.")],
    session: SessionOption = None,
    interval: IntervalOption = None,
    data_dir_option: DataDirOption = None,
    poll: PollOption = DEFAULT_POLL_INTERVAL_S,
    events: EventsOption = None,
) -> None:
    """Run CMD and record its whole process tree (put -- before CMD).

    Example: swarmscope run -d ./data -- python swarm.py
    """
    try:
        report = run_command(
            list(command), session_id=session, sample_interval=interval,
            data_dir=data_dir(data_dir_option), poll_interval=poll, events=events,
        )  # fmt: skip
    except ConfigError as error:
        fail(str(error), ERROR)
    except OSError as error:
        fail(f"cannot start {command[0]!r}: {error}", NOT_STARTED)
    _print_leftovers(report)
    raise typer.Exit(exit_status_for_shell(report.exit_code))


def attach(
    pid: Annotated[int, typer.Argument(help="Process id to follow.")],
    session: SessionOption = None,
    interval: IntervalOption = None,
    data_dir_option: DataDirOption = None,
    poll: PollOption = DEFAULT_POLL_INTERVAL_S,
    events: EventsOption = None,
) -> None:
    """Follow a running process PID and its descendants until it ends (Ctrl-C stops watching).

    Example: swarmscope attach 4242
    """
    try:
        report = attach_process(
            pid, session_id=session, sample_interval=interval,
            data_dir=data_dir(data_dir_option), poll_interval=poll, events=events,
        )  # fmt: skip
    except ConfigError as error:
        fail(str(error), ERROR)
    except ProcessLookupError as error:
        fail(str(error), NO_SUCH_PROCESS)
    _print_leftovers(report)
    raise typer.Exit(exit_status_for_shell(report.exits.get(pid, (None, None))[0]))


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``attach`` to ``app``."""
    app.command("run", context_settings={"allow_interspersed_args": False})(run)
    app.command("attach")(attach)
