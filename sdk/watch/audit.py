"""What a watched tree left behind, at the end of a watch: orphans (alive) and zombies
(exited, unreaped) among everything the tree ever held, plus processes still carrying the
session marker that no scan caught. Zombies within the grace period are not left behind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmscope.watch.leftovers import Leftover, find_leftovers, left_in_tree, settle_zombies
from swarmscope.watch.tree import TreeTracker


def left_behind(
    tracker: TreeTracker, agents: Mapping[tuple[int, int], Any], *, session_id: str,
    started: float, running_root: int | None, record_command_line: bool, zombie_grace: float,
) -> list[Leftover]:  # fmt: skip
    """The leftovers of a tree, sorted by pid. ``agents`` maps member keys to their
    :class:`~swarmscope.watch.watcher.ProcessAgent`; ``running_root`` (attach) is not one."""
    leftovers = left_in_tree(
        tracker.members, {key: agent.agent_id for key, agent in agents.items()},
        running_root=running_root, record_command_line=record_command_line,
        names={key: agent.name for key, agent in agents.items()},
    )  # fmt: skip
    leftovers.update(_marked(session_id, started, set(leftovers), record_command_line))
    # a zombie init or a subreaper reaps a moment later is not left behind
    since = {m.stat.pid: m.zombie_since for m in tracker.zombies() if m.zombie_since}
    leftovers = settle_zombies(leftovers, since, zombie_grace)
    return sorted(leftovers.values(), key=lambda item: item.pid)


def _marked(
    session_id: str, started: float, known: set[int], record_command_line: bool
) -> dict[int, Leftover]:
    """A last sweep for session-marked processes no scan caught (started and escaped
    between two scans, then went quiet)."""
    found = {}
    for item in find_leftovers(
        session_id, since=started, exclude=known, record_command_line=record_command_line
    ):
        if not item.zombie:  # zombies of the watcher itself are the reaped root: not ours
            found[item.pid] = item
    return found
