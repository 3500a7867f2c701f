"""Who ran what, and for how long: agents and their helpers, lifetimes, the session's shape.

Real orchestrators run a rolling population of short-lived processes beside a few long-lived
daemons; the persistence report's classic session spawns every agent, lets them work and
terminates them all. Both are read the same way here: every recorded process gets a
lifetime and a parent (``process.parent_pid``, else the parent span of its ``create_agent``
span), helpers (``swarm.agent.role`` = helper, or short-lived children of an agent when no
role was recorded) are grouped under the nearest agent above them, and the session is
classified as ``classic`` when every agent was spawned before the first one terminated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from swarmscope import conventions as C

from ..results import DuplicateDaemons, HelperGroup
from ..session_data import NS, AgentRecord, SessionData

HELPER = str(C.AgentRole.HELPER)
AGENT = str(C.AgentRole.AGENT)


@dataclass
class Life:
    """One recorded process (an agent record) over its lifetime."""

    agent: AgentRecord
    start_ns: int | None
    end_ns: int | None  # its terminate; None: still running when the recording ended
    seconds: float | None  # up to the end of the recording when still running
    parent: str | None = None  # agent id of the process that started it
    owner: str | None = None  # nearest ancestor that is an agent (helpers are grouped there)
    helper: bool = False
    long_lived: bool = False

    @property
    def agent_id(self) -> str:
        return self.agent.agent_id

    @property
    def running(self) -> bool:
        return self.end_ns is None

    def ended(self) -> str:
        """How it ended, in words."""
        a = self.agent
        if self.running:
            return "still running at the end"
        if a.exit_code is None:
            return f"terminated ({a.reason})" if a.reason else "terminated"
        reason = f" ({a.reason})" if a.reason and a.reason != C.TerminationReason.GRACEFUL else ""
        return f"exit {a.exit_code}{reason}"


@dataclass
class Population:
    lives: dict[str, Life]
    start_ns: int | None
    end_ns: int | None
    long_lived_s: float
    shape: str = "classic"
    children: dict[str | None, list[str]] = field(default_factory=dict)

    def agents(self) -> list[Life]:
        """The processes the orchestrator manages (not helpers), in spawn order."""
        return [life for life in self.lives.values() if not life.helper]

    def helpers_of(self, owner: str | None) -> list[Life]:
        return [life for life in self.lives.values() if life.helper and life.owner == owner]

    def is_helper(self, agent_id: str | None) -> bool:
        life = self.lives.get(agent_id) if agent_id else None
        return bool(life and life.helper)

    def offset(self, ns: int | None) -> float | None:
        """Seconds since the session start."""
        return None if ns is None or self.start_ns is None else (ns - self.start_ns) / NS


def build_population(data: SessionData, long_lived_s: float) -> Population:
    start, end = data.span_ns()
    lives: dict[str, Life] = {}
    for a in sorted(data.agents, key=lambda a: (a.spawn_ns or 0, a.agent_id)):
        last = a.terminate_ns if a.terminate_ns is not None else end
        seconds = (last - a.spawn_ns) / NS if a.spawn_ns is not None and last else None
        lives[a.agent_id] = Life(a, a.spawn_ns, a.terminate_ns, seconds,
                                 long_lived=seconds is not None and seconds >= long_lived_s)
    pop = Population(lives, start, end, long_lived_s)
    _link_parents(pop)
    for life in lives.values():
        life.helper = _is_helper(pop, life)
    for life in lives.values():
        life.owner = _owner(pop, life)
    pop.shape = _shape(pop)
    return pop


def _link_parents(pop: Population) -> None:
    """Each process's parent: the process with its parent pid alive at its spawn, else the
    agent whose create_agent span is the parent of its own (pids can be reused)."""
    by_pid: dict[int, list[Life]] = {}
    by_span = {life.agent.span_id: life for life in pop.lives.values() if life.agent.span_id}
    for life in pop.lives.values():
        if life.agent.pid is not None:
            by_pid.setdefault(life.agent.pid, []).append(life)
    for life in pop.lives.values():
        t = life.start_ns or 0
        cands = [p for p in by_pid.get(life.agent.parent_pid or -1, [])
                 if p is not life and (p.start_ns or 0) <= t + NS
                 and (p.end_ns is None or p.end_ns >= t - NS)]
        parent = max(cands, key=lambda p: p.start_ns or 0) if cands else None
        if parent is None and life.agent.parent_span_id:
            parent = by_span.get(life.agent.parent_span_id)
        if parent is not None and parent is not life:
            life.parent = parent.agent_id
        pop.children.setdefault(life.parent, []).append(life.agent_id)


def _is_helper(pop: Population, life: Life) -> bool:
    role = life.agent.role
    if role == HELPER:
        return True
    if role == AGENT:
        return False
    # no role recorded: a short-lived child of an agent is one of its helpers
    return life.parent is not None and not life.running and not life.long_lived


def _owner(pop: Population, life: Life) -> str | None:
    """The nearest ancestor that is an agent (for an agent: the agent that started it)."""
    seen = {life.agent_id}
    up = life.parent
    while up is not None and up not in seen:
        seen.add(up)
        parent = pop.lives[up]
        if not parent.helper:
            return up
        up = parent.parent
    return None


def _shape(pop: Population) -> str:
    """classic: every agent spawned before the first terminate; else a rolling population."""
    agents = pop.agents()
    spawns = [x.start_ns for x in agents if x.start_ns is not None]
    terms = [x.end_ns for x in agents if x.end_ns is not None]
    if not spawns or not terms or max(spawns) <= min(terms):
        return "classic"
    return "rolling"


def helper_groups(lives: list[Life]) -> list[HelperGroup]:
    """Helpers summed up by name: how many, how long, how they ended."""
    groups: dict[str, list[Life]] = {}
    for life in lives:
        groups.setdefault(life.agent.name, []).append(life)
    out = []
    for name, group in groups.items():
        secs = [x.seconds for x in group if x.seconds is not None]
        exits = Counter("running" if x.running else
                        str(x.agent.exit_code) if x.agent.exit_code is not None else "unknown"
                        for x in group)
        out.append(HelperGroup(name, len(group), min(secs) if secs else None,
                               max(secs) if secs else None, dict(exits)))
    return sorted(out, key=lambda g: (-g.count, g.name))


def duplicate_daemons(pop: Population, min_overlap_s: float) -> list[DuplicateDaemons]:
    """Long-lived agents of one name alive at the same time for at least ``min_overlap_s``.

    Many short invocations of one command are not daemons (not long-lived), and a restarted
    daemon overlaps its predecessor for a moment at most (less than ``min_overlap_s``)."""
    by_name: dict[str, list[Life]] = {}
    for life in pop.agents():
        if life.long_lived and life.start_ns is not None and life.agent.pid is not None:
            by_name.setdefault(life.agent.name, []).append(life)
    found = []
    for name, group in by_name.items():
        clusters = _overlapping(group, pop.end_ns or 0, min_overlap_s)
        for members, overlap in clusters:
            found.append(DuplicateDaemons(name, [m.agent.pid for m in members], overlap))
    return found


def _overlapping(group: list[Life], end_ns: int,
                 min_overlap_s: float) -> list[tuple[list[Life], float]]:
    """Connected groups of lives that overlap pairwise by ``min_overlap_s`` or more."""
    link: dict[int, set[int]] = {i: set() for i in range(len(group))}
    best: dict[int, float] = {}
    for i, a in enumerate(group):
        for j in range(i + 1, len(group)):
            b = group[j]
            lo = max(a.start_ns or 0, b.start_ns or 0)
            hi = min(a.end_ns or end_ns, b.end_ns or end_ns)
            overlap = (hi - lo) / NS
            if overlap >= min_overlap_s:
                link[i].add(j)
                link[j].add(i)
                best[i] = max(best.get(i, 0.0), overlap)
                best[j] = max(best.get(j, 0.0), overlap)
    out, seen = [], set()
    for i in link:
        if i in seen or not link[i]:
            continue
        stack, comp = [i], []
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            comp.append(k)
            stack.extend(link[k] - seen)
        comp.sort()
        out.append(([group[k] for k in comp], max(best[k] for k in comp)))
    return out
