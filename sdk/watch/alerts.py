"""The watcher's alert rules, checked while the watched program runs (docs/live.md): a hung
worker when :mod:`.hung` first finds it, an orphan appearing (a live process of the tree whose
parent is gone from it: reparented to init or a subreaper), and a duplicate daemon (two live,
long-lived agent processes of one derived name, :mod:`.naming`). Each goes to the process's
:class:`~swarmscope.monitor.alerts.AlertSink`, which reports it once.

Both tree rules are conservative. An orphan must stay outside the tree for the grace period
while the program is still running (a child its parent is about to stop is not one). Two
processes of one name are no duplicate when one descends from the other (a fork of itself) or
when one live process of the tree is the parent of both (a worker pool).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from swarmscope import procfs
from swarmscope.conventions import AgentRole, AlertCondition
from swarmscope.monitor import alert_config
from swarmscope.monitor.alerts import Alert, AlertSink, sink
from swarmscope.settings import ConfigError
from swarmscope.watch.naming import agent_name

if TYPE_CHECKING:
    from swarmscope.monitor.alert_config import AlertThresholds
    from swarmscope.watch.watcher import Watcher

CHECK_EVERY_S = 0.5
log = logging.getLogger("swarmscope.watch")


class WatchRules:
    """Checks one watcher's tree now and then; remembers since when each orphan is one."""

    def __init__(self, thresholds: AlertThresholds | None = None,
                 alerts: AlertSink | None = None) -> None:  # fmt: skip
        self.thresholds = thresholds or alert_config.load()
        self.alerts = alerts or sink()
        self._outside: dict[tuple[int, int], float] = {}  # key -> monotonic time first seen
        self._last = 0.0
        self._names: dict[tuple[int, int], tuple[str, str]] = {}  # key -> (comm, name)

    @classmethod
    def create(cls) -> WatchRules | None:
        """Rules with the configured thresholds; None (said once on stderr) when the alert
        thresholds file is bad: watching goes on without alerts."""
        try:
            return cls()
        except ConfigError as error:
            print(f"swarmscope: live alerts off: {error}", file=sys.stderr)
            return None

    def check(self, watcher: Watcher) -> None:
        """Hung workers found so far, then (every :data:`CHECK_EVERY_S`) the tree rules;
        never raises (an alert rule must not stop the watcher)."""
        try:
            self._check(watcher)
        except Exception:
            log.debug("watch alert rules failed", exc_info=True)

    def check_hung(self, watcher: Watcher) -> None:
        """An alert for each hung worker found so far (once each); never raises."""
        try:
            for worker in list(watcher.hung.found.values()):
                self._hung(worker, watcher)
        except Exception:
            log.debug("watch alert rules failed", exc_info=True)

    def _check(self, watcher: Watcher) -> None:
        self.check_hung(watcher)
        now = time.monotonic()
        if now - self._last < CHECK_EVERY_S:
            return
        self._last = now
        live = {key: m for key, m in watcher.tracker.members.items() if not m.exited}
        current = {key: procfs.read_stat(key[0]) for key in live}
        current = {key: st for key, st in current.items() if st is not None and st.key == key}
        self._orphans(watcher, current, now)
        self._duplicates(watcher, current)

    def _name(self, stat: Any) -> str:
        """:func:`current_name`, derived again only when the command name changes (an exec)."""
        cached = self._names.get(stat.key)
        if cached is None or cached[0] != stat.comm:
            if len(self._names) > 100_000:
                self._names.clear()
            cached = self._names[stat.key] = (stat.comm, current_name(stat))
        return cached[1]

    def _hung(self, worker: Any, watcher: Watcher) -> None:
        agent = watcher.report.agents.get((worker.pid, worker.start_ticks))
        self.alerts.raise_alert(Alert(
            AlertCondition.HUNG, value=worker.idle_s, threshold=watcher.hung.after, unit="s",
            message=f"pid {worker.pid} ({worker.name}) looks hung: idle {worker.idle_s:.0f}s "
                    f"waiting on {worker.waiting_on}",
            pid=worker.pid, start_ticks=worker.start_ticks, agent_name=worker.name,
            agent_id=worker.agent_id or (agent.agent_id if agent else None),
        ))  # fmt: skip

    def _orphans(self, watcher: Watcher, current: dict[tuple[int, int], Any], now: float) -> None:
        pids = {key[0] for key in current}
        root = watcher._root_pid
        grace = self.thresholds.orphan_grace
        outside = {}
        for key, stat in current.items():
            if stat.pid == root or stat.ppid in pids or stat.is_zombie:
                continue
            since = outside[key] = self._outside.get(key, now)
            if now - since < grace:
                continue
            agent = watcher.report.agents.get(key)
            name = current_name(stat)
            self.alerts.raise_alert(Alert(
                AlertCondition.ORPHAN, value=now - since, threshold=grace, unit="s",
                message=f"pid {stat.pid} ({name}) was orphaned while the session runs: its "
                        f"parent is gone and it now belongs to pid {stat.ppid} "
                        f"({procfs.read_comm(stat.ppid) or '?'})",
                pid=stat.pid, start_ticks=stat.start_ticks, agent_name=name,
                agent_id=agent.agent_id if agent else None,
            ))  # fmt: skip
        self._outside = outside

    def _duplicates(self, watcher: Watcher, current: dict[tuple[int, int], Any]) -> None:
        th, wall = self.thresholds, time.time()
        by_name: dict[str, list[tuple[Any, Any]]] = {}
        for key, stat in current.items():
            agent = watcher.report.agents.get(key)
            if agent is None or agent.role != AgentRole.AGENT or stat.is_zombie:
                continue
            if wall - stat.create_time >= th.daemon_min_age:
                by_name.setdefault(self._name(stat), []).append((stat, agent))
        pids = {key[0] for key in current}
        members = watcher.tracker.members
        for name, group in by_name.items():
            group.sort(key=lambda item: item[0].start_ticks)
            for i, (newer, agent) in enumerate(group[1:], start=1):
                older = next((o for o, _ in group[:i] if _distinct(o, newer, members, pids)),
                             None)  # fmt: skip
                overlap = wall - newer.create_time
                if older is None or overlap < th.daemon_min_overlap:
                    continue
                self.alerts.raise_alert(Alert(
                    AlertCondition.DUPLICATE_DAEMON, value=overlap, threshold=th.daemon_min_overlap,
                    unit="s",
                    message=f"two {name} processes alive: pid {older.pid} and pid {newer.pid}, "
                            f"together for {overlap:.0f}s",
                    pid=newer.pid, start_ticks=newer.start_ticks, agent_name=name,
                    agent_id=agent.agent_id,
                ))  # fmt: skip


def current_name(stat: Any) -> str:
    """What the process runs now (it may have exec'd since it was first named)."""
    return agent_name(procfs.read_cmdline(stat.pid), stat.comm)


def _distinct(a: Any, b: Any, members: dict[tuple[int, int], Any], pids: set[int]) -> bool:
    """Neither descends from the other in the tree as it was recorded (a reparented fork of
    itself still counts as its child), and no live process of the tree is both's parent."""
    if a.ppid == b.ppid and a.ppid in pids:
        return False  # a pool of one parent's workers
    return not (_descends(b.key, a.key, members) or _descends(a.key, b.key, members))


def _descends(key: tuple[int, int], ancestor: tuple[int, int],
              members: dict[tuple[int, int], Any]) -> bool:  # fmt: skip
    seen = set()
    member = members.get(key)
    while member is not None and member.parent_key is not None and key not in seen:
        if member.parent_key == ancestor:
            return True
        seen.add(key)
        key = member.parent_key
        member = members.get(key)
    return False
