"""``swarmscope run`` and ``swarmscope attach``: thin commands over :mod:`swarmscope.watch`.

``run`` exits with the program's own status (128+N when signal N killed it; 126 when the
command cannot be executed, 127 when it is not found, as a shell does), whatever the grade:
grading is ``swarmscope check``'s job. After the program it prints the leftovers, the hung
workers, what ``--reap`` ended and the graded report (on stderr, so the program's stdout stays
its own; ``--quiet`` skips the report, ``--report FILE`` writes it in the format of FILE's
suffix: .md, .json or .html).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from swarmscope.cli.options import ERROR, DataDirOption, QuietOption, data_dir, fail
from swarmscope.settings import ConfigError
from swarmscope.watch.leftovers import Leftover
from swarmscope.watch.reap import DEFAULT_TIMEOUT_S
from swarmscope.watch.runner import WatchOptions, attach_process, run_command
from swarmscope.watch.watcher import DEFAULT_POLL_INTERVAL_S, WatchReport

NOT_EXECUTABLE = 126  # the shell's "found but cannot execute"
NOT_STARTED = 127  # the shell's "command not found"
NO_SUCH_PROCESS = 1
REPORT_SUFFIXES = {".md": "md", ".json": "json", ".html": "html", ".htm": "html"}

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
ReapOption = Annotated[
    bool, typer.Option("--reap", help="End the session's leftover processes at the end "
                       "(SIGTERM, then SIGKILL after --reap-timeout).")
]
ReapTimeoutOption = Annotated[
    float, typer.Option("--reap-timeout", help="Seconds between SIGTERM and SIGKILL for --reap.")
]
ReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="Write the graded report to FILE (.md, .json or .html).",
                 show_default=False),
]
EventsOption = Annotated[
    bool | None,
    typer.Option(
        "--events/--no-events",
        help="Kernel fork/exit events (needs CAP_NET_ADMIN; default: when permitted).",
    ),
]

OnAlertOption = Annotated[
    str | None,
    typer.Option("--on-alert", help="Shell command run with each live alert as JSON on its "
                 "stdin (default $SWARMSCOPE_ON_ALERT; docs/live.md).", show_default=False),
]


def _live_alerts(command: str | None) -> None:
    """Check the alert thresholds before the program starts; hand the session --on-alert."""
    from swarmscope.monitor import alert_config, alerts

    try:
        alert_config.load()
    except ConfigError as error:
        fail(str(error), ERROR)
    if command is not None:
        alerts.configure(command)


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
        command = item.command_line or item.name or item.executable_name
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
    for worker in report.hung:
        print(f"swarmscope: hung: pid {worker.pid} ({worker.name}) idle {worker.idle_s:.0f}s "
              f"waiting on {worker.waiting_on}", file=sys.stderr)
    for outcome in report.reaped:
        how = "SIGKILL" if outcome.killed else "SIGTERM"
        state = f"ended ({how})" if outcome.ended else f"not ended: {outcome.error}"
        print(f"swarmscope: reaped pid {outcome.target.pid} ({outcome.target.name}): {state}",
              file=sys.stderr)


def _report_format(path: Path | None) -> str | None:
    if path is None:
        return None
    fmt = REPORT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        fail(f"--report: {path.name!r} needs a .md, .json or .html suffix")
    return fmt


def _grade(report: WatchReport, directory: Path, quiet: bool, output: Path | None) -> None:
    """The graded summary on stderr and/or the full report in ``output``; never changes the
    exit status (a missing analyzer or a grading error is a one-line note)."""
    if quiet and output is None:
        return
    try:
        import duckdb  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        print("swarmscope: install the analyzer to grade this session: "
              "pip install 'swarmscope[analyzer]'", file=sys.stderr)
        return
    from swarmscope.cli import report as reports

    try:
        with contextlib.redirect_stdout(sys.stderr):
            if output is not None:
                fmt = _report_format(output)
                reports.report(session=report.session_id, fmt=fmt, output=output,
                               data_dir=directory, config=None, no_ingest=False)
            if not quiet:
                reports.print_report(directory, report.session_id)
    except typer.Exit:
        pass  # the report command said why on stderr
    except Exception as error:  # grading must not take the program's exit status away
        print(f"swarmscope: could not grade session {report.session_id}: {error}",
              file=sys.stderr)


def run(
    command: Annotated[list[str], typer.Argument(help="The program and its arguments.")],
    session: SessionOption = None,
    interval: IntervalOption = None,
    data_dir_option: DataDirOption = None,
    poll: PollOption = DEFAULT_POLL_INTERVAL_S,
    events: EventsOption = None,
    reap: ReapOption = False,
    reap_timeout: ReapTimeoutOption = DEFAULT_TIMEOUT_S,
    quiet: QuietOption = False,
    report_file: ReportOption = None,
    on_alert: OnAlertOption = None,
) -> None:
    """Run CMD, record its whole process tree and grade the session (put -- before CMD).

    Exits with CMD's own status. Example: swarmscope run --reap -d ./data -- python swarm.py
    """
    directory = data_dir(data_dir_option)
    _report_format(report_file)  # a bad suffix fails before the program runs
    _live_alerts(on_alert)
    try:
        report = run_command(
            list(command), WatchOptions(session_id=session, sample_interval=interval,
                                        data_dir=directory, poll_interval=poll, events=events),
            reap_after=reap, reap_timeout=reap_timeout,
        )  # fmt: skip
    except ConfigError as error:
        fail(str(error), ERROR)
    except FileNotFoundError as error:
        fail(f"cannot start {command[0]!r}: {error}", NOT_STARTED)
    except OSError as error:  # not executable, a directory, no interpreter line
        fail(f"cannot execute {command[0]!r}: {error}", NOT_EXECUTABLE)
    _print_leftovers(report)
    _grade(report, directory, quiet, report_file)
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
        report = attach_process(pid, WatchOptions(
            session_id=session, sample_interval=interval, data_dir=data_dir(data_dir_option),
            poll_interval=poll, events=events,
        ))  # fmt: skip
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
