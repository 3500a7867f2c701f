"""What ``swarmscope top`` shows, without the terminal: agent rows as an ordered tree, the live
findings, and the JSON document of ``top --once --format json`` (docs/live.md).

Findings, most serious first: the alerts the session recorded (they are the monitor's and the
watcher's own judgement), then what ``top`` sees itself and no alert covers yet: a leak trend
(the same bounded-window test as the alerts, on the samples read so far), a spinner (a full
core for :data:`SPIN_SECONDS` in a row), hung workers, zombies and orphans.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from swarmscope.watch.live_model import EXITED, HUNG, ORPHAN, ZOMBIE, LiveAgent, LiveSession

# a spinner: at a full core this long in a row (the report's thresholds.cpu.spinning_min_seconds)
SPIN_SECONDS = 10.0
MIB = 1024 * 1024

SORTS: dict[str, tuple[str, Any, bool]] = {
    # key: (label, sort key, descending)
    "m": ("memory", lambda a: a.memory or 0.0, True),
    "c": ("cpu", lambda a: a.cpu or 0.0, True),
    "f": ("fds", lambda a: a.fds or 0, True),
    "n": ("name", lambda a: (a.name.lower(), a.pid or 0), False),
    "p": ("pid", lambda a: a.pid or 0, False),
    "a": ("age", lambda a: a.started or 0.0, False),
}


@dataclass
class Finding:
    kind: str  # an alert condition, or leak_trend / spinning / hung / zombie / orphan
    message: str
    pid: int | None = None
    agent: str | None = None
    alerted: bool = False  # recorded as an alert by the session itself
    time: float | None = None


def tree_rows(
    session: LiveSession, sort: str = "n", text: str = "", show_exited: bool = True
) -> list[tuple[LiveAgent, int]]:
    """(agent, depth) in tree order: children under their parent, siblings sorted by
    ``sort``; with ``text``, only agents whose name or pid contains it (at their depth)."""
    agents = [a for a in session.agents.values() if show_exited or a.state != EXITED]
    parent_of = _parents(session, agents)
    children: dict[str | None, list[LiveAgent]] = {}
    for agent in agents:
        children.setdefault(parent_of.get(agent.agent_id), []).append(agent)
    _label, key, reverse = SORTS.get(sort, SORTS["n"])
    rows: list[tuple[LiveAgent, int]] = []

    def walk(parent: str | None, depth: int, seen: set[str]) -> None:
        for agent in sorted(children.get(parent, []), key=key, reverse=reverse):
            if agent.agent_id in seen:
                continue
            seen.add(agent.agent_id)
            rows.append((agent, depth))
            walk(agent.agent_id, depth + 1, seen)

    walk(None, 0, set())
    if text:
        needle = text.lower()
        rows = [(a, d) for a, d in rows if needle in a.name.lower() or needle in str(a.pid)]
    return rows


def _parents(session: LiveSession, agents: list[LiveAgent]) -> dict[str, str]:
    """agent id -> its parent's agent id: by the create_agent span's parent span, else by the
    parent pid among agents alive when it started."""
    by_span = {a.span_id: a for a in agents if a.span_id}
    by_pid: dict[int, list[LiveAgent]] = {}
    for agent in agents:
        if agent.pid is not None:
            by_pid.setdefault(agent.pid, []).append(agent)
    found = {}
    for agent in agents:
        parent = by_span.get(agent.parent_span_id) if agent.parent_span_id else None
        if parent is None and agent.parent_pid is not None:
            candidates = [p for p in by_pid.get(agent.parent_pid, []) if p is not agent
                          and (p.started or 0) <= (agent.started or 0) + 1]  # fmt: skip
            parent = max(candidates, key=lambda p: p.started or 0, default=None)
        if parent is not None and parent is not agent:
            found[agent.agent_id] = parent.agent_id
    return _without_cycles(found)


def _without_cycles(parents: dict[str, str]) -> dict[str, str]:
    """Hostile or odd data may link agents in a circle: cut each circle once."""
    clean = dict(parents)
    for start in list(clean):
        seen, node = {start}, clean.get(start)
        while node is not None:
            if node in seen:
                clean.pop(start, None)
                break
            seen.add(node)
            node = clean.get(node)
    return clean


def findings(session: LiveSession, now: float | None = None) -> list[Finding]:
    """The live findings, recorded alerts first."""
    now = time.time() if now is None else now
    found = [Finding(a.condition, a.message, a.pid, a.agent_name, True, a.time)
             for a in session.alerts]  # fmt: skip
    covered = {(f.kind, f.pid) for f in found}
    for agent in session.agents.values():
        found += _own(agent, covered, now)
    return found


def _own(agent: LiveAgent, covered: set[tuple[str, int | None]], now: float) -> list[Finding]:
    out = []
    pid, name = agent.pid, agent.name
    live = agent.state != EXITED
    if agent.leak is not None and live and ("leak", pid) not in covered:
        v = agent.leak
        out.append(Finding("leak_trend", f"pid {pid} ({name}) memory grows "
                           f"{v.slope / MIB:.2f} MiB/s over the last {v.seconds:.0f}s "
                           f"(Mann-Kendall p={v.p_value:.1e})", pid, name))  # fmt: skip
    if live and agent.busy_since is not None and (agent.rss[-1][0] if agent.rss else now) \
            - agent.busy_since >= SPIN_SECONDS:  # fmt: skip
        out.append(Finding("spinning", f"pid {pid} ({name}) at {agent.cpu or 0:.1f} cores for "
                           f"{now - agent.busy_since:.0f}s", pid, name))  # fmt: skip
    for state, kind, words in ((HUNG, "hung", "looks hung"), (ZOMBIE, "zombie", "is a zombie"),
                               (ORPHAN, "orphan", "is an orphan")):  # fmt: skip
        if agent.state == state and (kind, pid) not in covered:
            out.append(Finding(kind, f"pid {pid} ({name}) {words}", pid, name))
    return out


def document(session: LiveSession, data_dir: str, files: dict[str, int],
             now: float | None = None) -> dict[str, Any]:  # fmt: skip
    """``top --once --format json``: the session, its agents in tree order, the findings."""
    now = time.time() if now is None else now
    rows = tree_rows(session)
    return {
        "session_id": session.session_id,
        "data_dir": data_dir,
        "time": now,
        "files": files,
        "agents": [_agent(a, depth, now) for a, depth in rows],
        "findings": [asdict(f) for f in findings(session, now)],
    }


def _agent(a: LiveAgent, depth: int, now: float) -> dict[str, Any]:
    return {
        "agent_id": a.agent_id, "name": a.name, "pid": a.pid, "parent_pid": a.parent_pid,
        "depth": depth, "state": a.state, "role": a.role, "kind": a.kind,
        "age_seconds": a.age(now), "exit_code": a.exit_code, "rss_bytes": a.memory,
        "cpu_cores": a.cpu, "fds": a.fds, "fd_limit": a.fd_limit, "threads": a.threads,
        "heap": None if a.heap is None else {"value": a.heap, "unit": a.heap_unit},
        "memory_recent": [v for _t, v in a.rss],
    }  # fmt: skip
