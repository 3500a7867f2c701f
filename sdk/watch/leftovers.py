"""Processes a session left behind: orphans still alive and zombies never reaped.

Hooks cannot be trusted to report their own leaks, so this looks at the system itself: every
live process whose environment carries the session's ``SWARMSCOPE_SESSION_ID`` (found even
after it was reparented to init) is an orphan, and every descendant of ours that exited but was
never reaped is a zombie. The ``audit_cleanup`` span that records them is built by
:func:`swarmscope.record.spans.emit_cleanup_audit`.

A zombie is only left behind once it has stayed a zombie for the grace period
(``SWARMSCOPE_ZOMBIE_GRACE``, :func:`settle_zombies`): init and subreapers reap their adopted
children a moment after they exit, and that moment is not a leak. Each zombie event names its
parent, the process that fails to reap it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from swarmscope import conventions as c
from swarmscope import procfs
from swarmscope.procfs import ProcStat
from swarmscope.redact import redact_command_line
from swarmscope.watch.naming import agent_name, process_name

if TYPE_CHECKING:
    from swarmscope.watch.tree import Member

_SLACK_S = 2.0  # start times are rounded to ticks; processes started just before still count


@dataclass(frozen=True)
class Leftover:
    """A process still present after its session (or its agent) ended."""

    pid: int
    parent_pid: int
    zombie: bool
    executable_name: str
    command_line: str | None
    agent_id: str | None
    age_s: float
    name: str | None = None  # derived name (swarmscope.watch.naming)
    parent_name: str | None = None
    zombie_s: float | None = None  # how long it had been seen a zombie
    start_ticks: int | None = None

    def event_attributes(self) -> dict[str, Any]:
        """Attributes of its ``swarm.process.orphan`` / ``swarm.process.zombie`` span event."""
        attributes: dict[str, Any] = {
            c.PROCESS_PID: self.pid,
            c.PROCESS_PARENT_PID: self.parent_pid,
            c.PROCESS_EXECUTABLE_NAME: self.executable_name,
            c.PROCESS_AGE: round(self.age_s, 3),
        }
        if self.command_line:
            attributes[c.PROCESS_COMMAND_LINE] = self.command_line
        if self.agent_id:
            attributes[c.AGENT_INSTANCE_ID] = self.agent_id
        if self.name:
            attributes[c.GEN_AI_AGENT_NAME] = self.name
        if self.parent_name:
            attributes[c.PARENT_NAME] = self.parent_name
        if self.zombie_s is not None:
            attributes[c.ZOMBIE_SECONDS] = round(self.zombie_s, 3)
        return attributes


def describe(
    stat: ProcStat,
    *,
    agent_id: str | None = None,
    record_command_line: bool = False,
    name: str | None = None,
) -> Leftover:
    """A left-over process from its stat (command line only when enabled, and redacted);
    ``name`` is the one it was recorded under (a zombie's command line is gone), kept unless
    the process has since exec'd another program."""
    argv = [] if stat.is_zombie else procfs.read_cmdline(stat.pid)
    return Leftover(
        pid=stat.pid,
        parent_pid=stat.ppid,
        zombie=stat.is_zombie,
        executable_name=os.path.basename(argv[0]) if argv else stat.comm,
        command_line=redact_command_line(argv) if record_command_line and argv else None,
        agent_id=agent_id,
        age_s=max(0.0, time.time() - stat.create_time),
        name=_current(name, argv, stat.comm),
        parent_name=process_name(stat.ppid) if stat.ppid > 0 else None,
        start_ticks=stat.start_ticks,
    )


def _current(recorded: str | None, argv: list[str], comm: str) -> str:
    """The recorded name, or the one of the program it runs now when that is another: a
    child starved of CPU between fork and exec was named after its parent."""
    now = agent_name(argv, comm)
    if recorded is None or (argv and recorded.split(" ", 1)[0] != now.split(" ", 1)[0]):
        return now
    return recorded


def find_leftovers(
    session_id: str,
    since: float,
    exclude: set[int] | None = None,
    *,
    record_command_line: bool = False,
) -> list[Leftover]:
    """Live processes of this user carrying ``session_id`` in their environment, plus our
    unreaped descendants.

    ``since`` (epoch seconds) skips older processes cheaply, before reading any environment.
    """
    exclude = (exclude or set()) | {os.getpid()}
    table = procfs.scan()
    uid = os.getuid()
    oldest = since - _SLACK_S
    found: dict[int, Leftover] = {}
    for pid, stat in table.items():
        if pid in exclude or stat.is_zombie or stat.create_time < oldest:
            continue  # a zombie's environment is gone; zombies are found as descendants below
        if procfs.read_uid(pid) != uid:
            continue
        env = procfs.read_environ(pid)
        if env is not None and env.get(c.ENV_SESSION_ID) == session_id:
            found[pid] = describe(
                stat, agent_id=env.get(c.ENV_AGENT_ID), record_command_line=record_command_line
            )
    for stat in procfs.descendants(os.getpid(), table):
        if stat.is_zombie and stat.pid not in exclude:
            found[stat.pid] = describe(stat)
    return sorted(found.values(), key=lambda item: item.pid)


def left_in_tree(
    members: Mapping[tuple[int, int], Member],
    agent_ids: Mapping[tuple[int, int], str],
    *,
    running_root: int | None = None,
    record_command_line: bool = False,
    names: Mapping[tuple[int, int], str] | None = None,
) -> dict[int, Leftover]:
    """Orphans (alive) and zombies (exited, unreaped) among everything a watched tree ever
    held, by pid; ``running_root`` is a root still alive that is not left behind."""
    found: dict[int, Leftover] = {}
    for key, member in members.items():
        if member.exited and not member.zombie:
            continue
        stat = procfs.read_stat(member.stat.pid)
        if stat is None or stat.key != key:
            continue  # gone, or the pid belongs to another process now
        if stat.pid == running_root and not stat.is_zombie:
            continue
        found[stat.pid] = describe(
            stat, agent_id=agent_ids.get(key), record_command_line=record_command_line,
            name=(names or {}).get(key),
        )  # fmt: skip
    return found


def settle_zombies(
    found: dict[int, Leftover], zombie_since: Mapping[int, float], grace: float
) -> dict[int, Leftover]:
    """``found`` without the zombies reaped within ``grace`` seconds of first being seen
    (``zombie_since``: pid -> time.monotonic()), and without processes that ended meanwhile.

    Waits only as long as the youngest zombie needs; zombies first seen now get the full grace.
    """
    now = time.monotonic()
    since = {pid: zombie_since.get(pid, now) for pid, item in found.items() if item.zombie}
    deadline = max((t + grace for t in since.values()), default=now)
    while time.monotonic() < deadline and any(_still_there(found[p]) for p in since):
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    kept = {}
    for pid, item in found.items():
        if not _still_there(item):
            continue
        if item.zombie:
            item = replace(item, zombie_s=time.monotonic() - since[pid])
        kept[pid] = item
    return kept


def _still_there(item: Leftover) -> bool:
    """The same process, in the same state (a zombie still unreaped, an orphan still alive)."""
    stat = procfs.read_stat(item.pid)
    if stat is None or (item.start_ticks is not None and stat.start_ticks != item.start_ticks):
        return False
    return stat.is_zombie == item.zombie
