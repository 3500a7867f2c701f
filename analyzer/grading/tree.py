"""The process tree of a session: who spawned whom, lifetimes, exits, with leftovers and hung
workers marked, and repeated short helpers aggregated into one row ("ps ×312, 0.01-0.2 s,
all exit 0") so a session of a thousand processes stays readable."""

from __future__ import annotations

from collections import Counter

from ..results import DimensionGrade, TreeNode
from .population import Life, Population

MAX_DEPTH = 40  # descendants deeper than this are left out (no real tree is that deep)


def process_tree(pop: Population, cleanup: DimensionGrade, group_min: int) -> list[TreeNode]:
    """Root processes (those no recorded process started) with their descendants; at least
    ``group_min`` alike short siblings become one row."""
    marks = _marks(pop, cleanup)
    nodes: dict[str, TreeNode] = {}
    for life in pop.lives.values():
        nodes[life.agent_id] = _node(pop, life, marks.get(life.agent_id, []))
    for orphan in _unmatched_leftovers(pop, cleanup):
        nodes[orphan.name + str(orphan.pid)] = orphan
    roots = _attach(pop, nodes)
    return _aggregate(roots, group_min, pop.long_lived_s, 0)


def _node(pop: Population, life: Life, marks: list[str]) -> TreeNode:
    return TreeNode(
        name=life.agent.name, pid=life.agent.pid, agent_id=life.agent_id,
        role="helper" if life.helper else "agent", start_s=pop.offset(life.start_ns),
        seconds=life.seconds, ended=life.ended(),
        marks=marks + (["running"] if life.running and not marks else []))


def _latest_by_pid(pop: Population) -> dict[int, Life]:
    out: dict[int, Life] = {}
    for life in sorted(pop.lives.values(), key=lambda x: x.start_ns or 0):
        if life.agent.pid is not None:
            out[life.agent.pid] = life
    return out


def _marks(pop: Population, cleanup: DimensionGrade) -> dict[str, list[str]]:
    """agent id -> what to highlight (orphan, zombie, hung) by the leftover's pid."""
    by_pid = _latest_by_pid(pop)
    out: dict[str, list[str]] = {}
    found = ([(p.pid, "orphan") for p in cleanup.orphans]
             + [(p.pid, "zombie") for p in cleanup.zombies]
             + [(h.pid, "hung") for h in cleanup.hung])
    for pid, mark in found:
        if pid in by_pid:
            out.setdefault(by_pid[pid].agent_id, []).append(mark)
    return out


def _unmatched_leftovers(pop: Population, cleanup: DimensionGrade) -> list[TreeNode]:
    """Leftovers that were never recorded as processes (grandchildren found by the audit)."""
    by_pid = _latest_by_pid(pop)
    out = []
    for mark, group in (("orphan", cleanup.orphans), ("zombie", cleanup.zombies)):
        for p in group:
            if p.pid not in by_pid:
                out.append(TreeNode(name=p.command or "process", pid=p.pid, agent_id=p.agent,
                                    role="agent", start_s=None, seconds=p.age_seconds,
                                    ended="left behind", marks=[mark]))
    return out


def _attach(pop: Population, nodes: dict[str, TreeNode]) -> list[TreeNode]:
    roots = []
    for key, node in nodes.items():
        life = pop.lives.get(key)
        parent = life.parent if life else node.agent_id  # a leftover hangs under its agent
        if parent is not None and parent in nodes and parent != key:
            nodes[parent].children.append(node)
        else:
            roots.append(node)
    return roots


def _aggregate(nodes: list[TreeNode], group_min: int, long_lived_s: float,
               depth: int) -> list[TreeNode]:
    """Alike short siblings (leaves of one name, ended, nothing to highlight) as one row."""
    nodes.sort(key=lambda n: (n.start_s is None, n.start_s or 0.0))
    groups: dict[str, list[TreeNode]] = {}
    for n in nodes:
        if _groupable(n, long_lived_s):
            groups.setdefault(n.name, []).append(n)
    grouped = {id(n) for g in groups.values() if len(g) >= group_min for n in g}
    out: list[TreeNode] = []
    done: set[str] = set()
    for n in nodes:
        if id(n) in grouped:
            group = groups[n.name]
            if n.name not in done:
                out.append(_group_row(group))
                done.add(n.name)
            continue
        if depth >= MAX_DEPTH:
            n.children = []
        else:
            n.children = _aggregate(n.children, group_min, long_lived_s, depth + 1)
        out.append(n)
    return out


def _groupable(n: TreeNode, long_lived_s: float) -> bool:
    """A leaf that ended with nothing to highlight: a helper, or a short-lived agent."""
    if n.children or n.marks:
        return False
    return n.role == "helper" or (n.seconds is not None and n.seconds < long_lived_s)


def _group_row(group: list[TreeNode]) -> TreeNode:
    secs = [n.seconds for n in group if n.seconds is not None]
    exits = Counter(n.ended for n in group)
    ended = (f"all {next(iter(exits))}" if len(exits) == 1
             else ", ".join(f"{e} ×{c}" for e, c in exits.most_common()))
    starts = [n.start_s for n in group if n.start_s is not None]
    return TreeNode(name=group[0].name, pid=None, agent_id=None, role=group[0].role,
                    start_s=min(starts) if starts else None,
                    seconds=(max(n.start_s + (n.seconds or 0) for n in group
                                 if n.start_s is not None) - min(starts)) if starts else None,
                    ended=ended, count=len(group), min_seconds=min(secs) if secs else None,
                    max_seconds=max(secs) if secs else None)
