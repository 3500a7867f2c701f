"""The library entry points: one session, one watcher, a report.

:func:`run_command` (``swarmscope run -- CMD``) and :func:`attach_process` (``swarmscope attach
PID``) open the session's telemetry, keep the session's owner file (:mod:`.owners`) while they
watch, optionally reap what the program left behind (:mod:`.reap`) and flush. The commands
themselves are in :mod:`swarmscope.cli.watch`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from swarmscope import procfs
from swarmscope import settings as config
from swarmscope.watch import owners, reap
from swarmscope.watch.watcher import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_SETTLE_S,
    Watcher,
    WatchReport,
)

if TYPE_CHECKING:
    from swarmscope.record.session import Session


@dataclass(frozen=True)
class WatchOptions:
    """How :func:`run_command` and :func:`attach_process` record: the session to join (None:
    a new one), the sampling interval and data directory (None: the settings'), how often the
    watcher polls, how long it lets a tree settle, and whether it uses kernel process events
    (None: when available)."""

    session_id: str | None = None
    sample_interval: float | None = None
    data_dir: Path | None = None
    poll_interval: float = DEFAULT_POLL_INTERVAL_S
    settle: float = DEFAULT_SETTLE_S
    events: bool | None = None


def _open(
    options: WatchOptions, name: str, agent_pattern: re.Pattern[str] | None = None
) -> tuple[Session, Watcher]:
    """Open the session's telemetry as service ``name`` and a watcher recording into it."""
    import swarmscope

    swarmscope.init(
        service_name=name, session_id=options.session_id,
        sample_interval=options.sample_interval, data_dir=options.data_dir,
    )  # fmt: skip
    session = swarmscope.session()
    watcher = watcher_for(
        session, poll_interval=options.poll_interval, settle=options.settle,
        events=options.events, agent_pattern=agent_pattern,
    )  # fmt: skip
    return session, watcher


def watcher_for(
    session: Session,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL_S,
    settle: float = DEFAULT_SETTLE_S,
    events: bool | None = None,
    agent_pattern: re.Pattern[str] | None = None,
) -> Watcher:
    """A watcher that records into ``session``: its tracer, its monitor, under its root span,
    and hands the session's settings to the programs it starts."""
    settings = session.telemetry.settings
    return Watcher(
        session_id=session.id, tracer=session.tracer, monitor=session.monitor,
        parent_context=session.parent_context(), poll_interval=poll_interval, settle=settle,
        events=events, agent_pattern=agent_pattern,
        record_command_lines=settings.record_command_lines, settings=settings,
    )  # fmt: skip


def run_command(
    argv: list[str],
    options: WatchOptions | None = None,
    *,
    reap_after: bool = False,
    reap_timeout: float = reap.DEFAULT_TIMEOUT_S,
) -> WatchReport:
    """Start ``argv``, follow its tree to the end, audit what it left and flush the telemetry;
    with ``reap_after``, end the session's leftovers after the audit recorded them.

    Raises :class:`~swarmscope.settings.ConfigError` for a bad setting (before anything
    starts) and :class:`OSError` when ``argv`` cannot be started (after recording that)."""
    pattern = config.agent_pattern()
    config.hung_after(), config.zombie_grace(), config.helper_overrides()  # fail before starting
    session, watcher = _open(options or WatchOptions(), os.path.basename(argv[0]), pattern)
    watcher.forward_signals()
    owner = owners.write_owner(session.telemetry.settings.data_dir, session.id, argv[0])
    try:
        watcher.start(argv)
        report = watcher.wait()
        if reap_after:
            report.reaped = _reap_own(session, reap_timeout)
        return report
    finally:
        watcher.close()
        owners.mark_ended(owner)
        _shutdown()


def _reap_own(session: Session, timeout: float) -> list[reap.Outcome]:
    """End the session's leftovers from inside its watcher, which has finished watching (so
    its own liveness does not count: see :func:`reap.running_reason`)."""
    targets = reap.find_targets(session.id)
    outcomes = reap.end_targets(targets, timeout)
    reap.record(session.tracer, outcomes)
    return outcomes


def attach_process(pid: int, options: WatchOptions | None = None) -> WatchReport:
    """Follow the running process ``pid`` until it ends (or Ctrl-C), then audit and flush.

    Raises :class:`ProcessLookupError` when there is no such process."""
    stat = procfs.read_stat(pid)
    if stat is None:
        raise ProcessLookupError(f"no process with pid {pid}")
    session, watcher = _open(options or WatchOptions(), stat.comm)
    owner = owners.write_owner(session.telemetry.settings.data_dir, session.id, stat.comm)
    # Ctrl-C stops watching; the attached program is not ours to signal
    watcher.attach(pid)
    try:
        return watcher.wait()
    except KeyboardInterrupt:
        watcher._audit()
        return watcher.report
    finally:
        watcher.close()
        owners.mark_ended(owner)
        _shutdown()


def _shutdown() -> None:
    import swarmscope

    swarmscope.shutdown()
