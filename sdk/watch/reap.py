"""Ending what a session left behind: ``swarmscope reap`` and ``swarmscope run --reap``.

A leftover is found by the session marker in its initial environment
(``SWARMSCOPE_SESSION_ID=<session>``, read from ``/proc/PID/environ``), wherever it now hangs
in the tree (reparented to init or a subreaper included). The safety rules:

* **only marked processes**: a process is never matched by name, pid list or command line;
* **only this user's**: the uid of ``/proc/PID`` must be ours (root: its own processes only,
  too, so a shared machine's other users are never touched);
* **never a running session**: :func:`running_reason` refuses while the session's watcher is
  alive (its owner file, :mod:`.owners`) or while the process that started the session still
  runs (the unmarked pid in a leftover's ``SWARMSCOPE_MONITORED_BY``, started before it);
* **never ourselves or our ancestors** (a reap run from inside a session's tree);
* **identity checked before each signal**: ``(pid, start ticks)`` must still match.

Ending is SIGTERM to every target, then SIGKILL to those still alive after ``timeout``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmscope import conventions as c
from swarmscope import procfs
from swarmscope.record import spans
from swarmscope.watch.naming import agent_name, process_name
from swarmscope.watch.owners import live_watcher

DEFAULT_TIMEOUT_S = 5.0
_POLL_S = 0.05


@dataclass(frozen=True)
class Target:
    """A live process carrying the session marker."""

    pid: int
    ppid: int
    start_ticks: int
    name: str
    create_time: float
    monitored_by: int | None
    traceparent: dict[str, str]

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start_ticks)

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.create_time)


@dataclass
class Outcome:
    """What happened to one target."""

    target: Target
    ended: bool = False
    killed: bool = False  # needed SIGKILL
    error: str | None = None
    ended_at: float | None = None


def _ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1 and pid not in found:
        found.add(pid)
        stat = procfs.read_stat(pid)
        if stat is None:
            break
        pid = stat.ppid
    return found


def find_targets(session_id: str) -> list[Target]:
    """This user's live processes marked with ``session_id`` (us and our ancestors excluded)."""
    protected = _ancestors(os.getpid())
    uid = os.getuid()
    found = []
    for pid, stat in sorted(procfs.scan().items()):
        if pid in protected or stat.is_zombie or procfs.read_uid(pid) != uid:
            continue
        if not procfs.environ_has(pid, c.ENV_SESSION_ID, session_id):
            continue
        env = procfs.read_environ(pid) or {}
        monitor = env.get(c.ENV_MONITORED_BY, "")
        found.append(Target(
            pid, stat.ppid, stat.start_ticks, agent_name(procfs.read_cmdline(pid), stat.comm),
            stat.create_time, int(monitor) if monitor.isdigit() else None,
            {k: v for k in (c.ENV_TRACEPARENT, c.ENV_TRACESTATE) if (v := env.get(k))},
        ))  # fmt: skip
    return found


def running_reason(
    session_id: str, data_dir: Path, targets: Iterable[Target], ignore: Iterable[int] = ()
) -> str | None:
    """Why ``session_id`` still counts as running (so nothing may be reaped), or None."""
    skip = set(ignore)
    watcher = live_watcher(data_dir, session_id)
    if watcher is not None and watcher not in skip:
        return f"it is still being watched by swarmscope (pid {watcher})"
    items = list(targets)
    marked = {t.pid for t in items}
    for target in items:
        origin = target.monitored_by
        if origin is None or origin in skip or origin in marked:
            continue  # a marked monitor is itself a leftover, not the session's origin
        stat = procfs.read_stat(origin)
        if stat is not None and not stat.is_zombie and stat.start_ticks <= target.start_ticks:
            return f"the process that started it still runs (pid {origin}, {process_name(origin)})"
    return None


def _alive(target: Target) -> bool:
    stat = procfs.read_stat(target.pid)
    return stat is not None and stat.start_ticks == target.start_ticks and not stat.is_zombie


def _signal(outcome: Outcome, sig: signal.Signals) -> None:
    if not _alive(outcome.target):  # ended already, or the pid is someone else's now
        outcome.ended, outcome.ended_at = True, outcome.ended_at or time.time()
        return
    try:
        os.kill(outcome.target.pid, sig)
    except ProcessLookupError:
        outcome.ended, outcome.ended_at = True, time.time()
    except PermissionError as error:
        outcome.error = str(error)


def _wait(outcomes: list[Outcome], deadline: float) -> None:
    pending = [o for o in outcomes if not o.ended and o.error is None]
    while pending:
        for outcome in pending:
            if not _alive(outcome.target):
                outcome.ended, outcome.ended_at = True, time.time()
        pending = [o for o in pending if not o.ended]
        if not pending or time.monotonic() >= deadline:
            return
        time.sleep(_POLL_S)


def end_targets(targets: Iterable[Target], timeout: float = DEFAULT_TIMEOUT_S) -> list[Outcome]:
    """SIGTERM every target, SIGKILL those alive after ``timeout`` seconds; what happened."""
    outcomes = [Outcome(target) for target in targets]
    for outcome in outcomes:
        _signal(outcome, signal.SIGTERM)
    _wait(outcomes, time.monotonic() + timeout)
    survivors = [o for o in outcomes if not o.ended and o.error is None]
    for outcome in survivors:
        outcome.killed = True
        _signal(outcome, signal.SIGKILL)
    _wait(survivors, time.monotonic() + 2.0)
    for outcome in survivors:
        if not outcome.ended and outcome.error is None:
            outcome.error = "still alive after SIGKILL"
    return outcomes


def record(tracer: Any, outcomes: Iterable[Outcome]) -> None:
    """One ``terminate_agent`` span (``swarm.process.reaped``) per process reap ended."""
    for outcome in outcomes:
        if not outcome.ended:
            continue
        target = outcome.target
        spans.emit_reaped(
            tracer, target.name, pid=target.pid, killed=outcome.killed,
            parent=spans.parent_from_environment(target.traceparent),
            create_time=target.create_time, exit_time=outcome.ended_at,
        )  # fmt: skip


def format_targets(targets: Iterable[Target]) -> str:
    """A plain-text table: pid, parent, age, name."""
    rows = [("PID", "PPID", "AGE", "NAME")]
    rows += [(str(t.pid), str(t.ppid), f"{t.age_s:.1f}s", t.name) for t in targets]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)
