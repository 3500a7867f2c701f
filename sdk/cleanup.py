"""Find processes a session left behind and record them on an ``audit_cleanup`` span.

Hooks cannot be trusted to report their own leaks, so the audit looks at the system itself:
every live process whose environment carries this session's ``SWARMSCOPE_SESSION_ID`` (found
even after it was reparented to init) is an orphan, and every child of ours that exited but
was never reaped is a zombie.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from swarmscope import conventions as c
from swarmscope.redact import redact_command_line

if TYPE_CHECKING:
    from swarmscope.lifecycle import Session

_SLACK_S = 2.0  # create_time is rounded; processes started just before init() still count


@dataclass(frozen=True)
class Leftover:
    """A process still present after its session ended."""

    pid: int
    parent_pid: int
    zombie: bool
    executable_name: str
    command_line: str | None
    agent_id: str | None
    age_s: float

    def event_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            c.PROCESS_PID: self.pid,
            c.PROCESS_PARENT_PID: self.parent_pid,
            c.PROCESS_EXECUTABLE_NAME: self.executable_name,
            c.PROCESS_AGE: round(self.age_s, 3),
        }
        if self.command_line:
            attributes[c.PROCESS_COMMAND_LINE] = self.command_line
        if self.agent_id:
            attributes[c.GEN_AI_AGENT_ID] = self.agent_id
        return attributes


def _record_command_lines() -> bool:
    return os.environ.get(c.ENV_RECORD_COMMAND_LINES, "").strip() in ("1", "true", "yes")


def _describe(process: psutil.Process, zombie: bool, env: dict[str, str]) -> Leftover | None:
    try:
        with process.oneshot():
            name = process.name()
            parent_pid = process.ppid()
            created = process.create_time()
            cmdline = None
            if _record_command_lines() and not zombie:
                cmdline = redact_command_line(process.cmdline())
    except (psutil.Error, OSError):
        return None
    return Leftover(
        pid=process.pid,
        parent_pid=parent_pid,
        zombie=zombie,
        executable_name=name,
        command_line=cmdline,
        agent_id=env.get(c.ENV_AGENT_ID),
        age_s=max(0.0, time.time() - created),
    )


def find_leftovers(
    session_id: str, since: float, exclude: set[int] | None = None
) -> list[Leftover]:
    """Processes carrying ``session_id`` in their environment, plus our unreaped children.

    ``since`` (epoch seconds) skips older processes cheaply, before reading any environment.
    """
    exclude = (exclude or set()) | {os.getpid()}
    found: dict[int, Leftover] = {}
    for process in psutil.process_iter(["create_time", "status"]):
        info = process.info
        if process.pid in exclude or (info.get("create_time") or 0) < since - _SLACK_S:
            continue
        if info.get("status") == psutil.STATUS_ZOMBIE:
            continue  # a zombie's environment is gone; zombies are found as children below
        try:
            env = process.environ()
        except (psutil.Error, OSError):
            continue
        if env.get(c.ENV_SESSION_ID) == session_id:
            leftover = _describe(process, False, env)
            if leftover is not None:
                found[process.pid] = leftover
    for child in _zombie_children(exclude):
        leftover = _describe(child, True, {})
        if leftover is not None:
            found[child.pid] = leftover
    return sorted(found.values(), key=lambda item: item.pid)


def _zombie_children(exclude: set[int]) -> list[psutil.Process]:
    try:
        children = psutil.Process().children(recursive=True)
    except (psutil.Error, OSError):
        return []
    zombies = []
    for child in children:
        try:
            if child.pid not in exclude and child.status() == psutil.STATUS_ZOMBIE:
                zombies.append(child)
        except (psutil.Error, OSError):
            continue
    return zombies


def audit(session: Session) -> list[Leftover]:
    """Emit the ``audit_cleanup`` span of ``session`` with one event per leftover process."""
    tel = session.telemetry
    agents = {a.pid: a for a in session.agents.values() if a.pid is not None}
    with session.tracer.start_as_current_span(
        c.SPAN_CLEANUP_AUDIT,
        context=session._parent_ctx,
        kind=SpanKind.INTERNAL,
        attributes={c.SESSION_ID: session.id},
    ) as span:
        leftovers = find_leftovers(session.id, since=tel.start_ns / 1e9)
        for leftover in leftovers:
            attributes = leftover.event_attributes()
            agent = agents.get(leftover.pid)
            if agent is not None:  # zombies lost their environment; we know them by pid
                attributes[c.GEN_AI_AGENT_ID] = agent.id
            name = c.EVENT_ZOMBIE if leftover.zombie else c.EVENT_ORPHAN
            span.add_event(name, attributes=attributes)
        if leftovers:
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{len(leftovers)} left over"))
    return leftovers
