"""The resource monitor: a background sampler that measures agent processes, their
descendants and the system, and publishes the figures as OpenTelemetry metrics.

Design: each round (every ``interval`` seconds, which is also the metric export interval)
refreshes one process table shared by all watched agents (parents, states; see
:mod:`swarmscope.procfs`), does one psutil ``oneshot()`` pass per sampled process and stores the
result as a snapshot. The instruments (:mod:`swarmscope.monitor.instruments`) only read the
latest snapshot, so an export
never touches ``/proc``. When the sampler thread is not running, the first callback of a
collection takes a fresh round itself.

Counters (CPU time, context switches) are the kernel's cumulative per-process values, so they
are monotonic per pid; gauges carry the last value. A process that exits, turns zombie or denies
access is logged once at debug level (logger ``swarmscope.monitor``) and dropped from the
metrics; zombies stay visible through ``zombies()`` until they are reaped.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psutil
from opentelemetry.metrics import Meter
from swarmscope import procfs
from swarmscope import settings as config
from swarmscope.conventions import (
    SystemMemoryState,
)
from swarmscope.monitor.alert_rules import ResourceRules
from swarmscope.monitor.cpython import GcMetrics
from swarmscope.monitor.instruments import create_instruments
from swarmscope.monitor.samples import (
    DENIED,
    GONE,
    RUNNING,
    ZOMBIE,
    ProcessSample,
    SampledProcess,
    SystemSample,
    WatchedProcess,
)

log = logging.getLogger("swarmscope.monitor")

_MAX_NOTED = 100_000  # bound on the "already logged" memory for long-running monitors


class ResourceMonitor:
    """Samples watched processes (and their descendants), the system and this interpreter."""

    def __init__(
        self,
        meter: Meter,
        interval: float = 1.0,
        system: bool = True,
        python_runtime: bool = True,
    ) -> None:
        if not isinstance(interval, int | float) or not interval > 0:
            raise ValueError(f"interval: the sample interval must be a positive number of "
                             f"seconds, got {interval!r}")  # fmt: skip
        self.interval = float(interval)
        self._system_enabled = system
        self._cpu_count = os.cpu_count() or 1
        self._lock = threading.Lock()  # guards _roots
        self._round_lock = threading.Lock()  # one round at a time
        self._roots: dict[int, WatchedProcess] = {}
        self._table = procfs.ProcessTable()
        self._members: dict[int, SampledProcess] = {}
        self._noted: set[tuple[int | str, float, str]] = set()
        self._denied: set[tuple[int, int]] = set()  # (pid, start ticks)
        self._snapshot: list[tuple[ProcessSample, SampledProcess]] = []
        self._zombies: list[ProcessSample] = []
        self._system: SystemSample | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._stopped = False  # stop() took the last round: collections no longer sample
        self.rounds = 0
        self.cpu_seconds = 0.0  # CPU time spent in sampling rounds (any thread)
        self.gc = GcMetrics(meter) if python_runtime else None
        # live alerts (docs/live.md): judged by the monitor that samples the system, the one of
        # the session's watcher or first process (a monitored child does not judge again)
        self.alerts = ResourceRules.create() if system else None
        create_instruments(meter, self, system=system)

    # --- registration --------------------------------------------------------------------------
    def watch(
        self,
        pid: int,
        agent_id: str | None = None,
        agent_name: str | None = None,
        descendants: bool = True,
    ) -> WatchedProcess:
        """Sample ``pid`` (and, by default, every descendant) from the next round on. Idempotent;
        a later call updates the agent id/name."""
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ValueError(f"pid: expected a positive process id, got {pid!r}")
        with self._lock:
            old = self._roots.get(pid)
            if old is not None:
                agent_id = agent_id or old.agent_id
                agent_name = agent_name or old.agent_name
                if (agent_id, agent_name, descendants) == (old.agent_id, old.agent_name,
                                                           old.descendants):  # fmt: skip
                    return old
            # A new record: processes attributed to the old one are re-read with the new id.
            watched = self._roots[pid] = WatchedProcess(pid, agent_id, agent_name, descendants)
        return watched

    def unwatch(self, pid: int) -> None:
        """Stop sampling ``pid`` and its descendants (unknown pids are ignored)."""
        with self._lock:
            self._roots.pop(pid, None)

    def watched(self) -> dict[int, WatchedProcess]:
        with self._lock:
            return dict(self._roots)

    def zombies(self) -> list[ProcessSample]:
        """Watched processes or descendants seen as zombies (exited, unreaped) in the last round."""
        return list(self._zombies)

    # --- background thread ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Sample every ``interval`` seconds in a daemon thread (idempotent)."""
        if self.running:
            return
        if self.gc is not None:
            self.gc.install()
        self._stop.clear()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="swarmscope-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and the GC hook (idempotent); pending GC pauses are recorded.

        A monitor that ran takes its last round here, in the stopping thread, and later
        collections report that round. Sampled afterwards, during the telemetry's own flush,
        a process sampling itself would count the flush's threads: threads 'left behind after
        termination' (cleanup.thread_excess) in every session that ends cleanly."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is not None and not self._stopped:
            self._safe_round()
            self._stopped = True
        if self.gc is not None:
            self.gc.uninstall()

    def after_fork_in_child(self) -> None:
        """Make this monitor usable in a forked child (call from ``os.register_at_fork``).

        Locks held by the parent's sampler thread at fork time would stay held forever and the
        thread itself does not exist here: both are replaced. The parent's agents remain the
        parent's to watch; if the parent sampled its own process, the child samples itself."""
        parent = os.getppid()
        own = self._roots.get(parent)
        was_running = self._thread is not None
        self._lock = threading.Lock()
        self._round_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._stopped = False
        self._roots, self._members, self._snapshot, self._zombies = {}, {}, [], []
        self._noted, self._denied = set(), set()
        self._table = procfs.ProcessTable()
        self._system = None
        self.rounds, self.cpu_seconds = 0, 0.0
        if self.gc is not None:
            self.gc.after_fork_in_child()
        if own is not None:
            self.watch(os.getpid(), agent_id=config.inherited_agent()[0], descendants=False)
        if was_running:
            self.start()

    def _run(self) -> None:
        deadline = time.monotonic()
        while True:
            self._safe_round()
            deadline += self.interval
            wait = deadline - time.monotonic()
            if wait < 0:  # fell behind (suspended, overloaded): don't try to catch up
                deadline, wait = time.monotonic(), 0.0
            if self._stop.wait(wait):
                return

    def _safe_round(self) -> None:
        """A round that never raises: a sampler must not take the program down. A failure that
        repeats every round is logged once."""
        try:
            self.sample_once()
        except Exception as error:
            key = ("round", 0.0, repr(error))
            if key not in self._noted:
                self._noted.add(key)
                log.debug("sampling round failed", exc_info=True)

    # --- one round -----------------------------------------------------------------------------
    def sample_once(self) -> list[ProcessSample]:
        """One synchronous round; returns a sample per process examined (see ``status``)."""
        with self._round_lock:
            cpu0 = time.thread_time()
            with self._lock:
                roots = list(self._roots.values())
            # Per-state counts need every state afresh; descendants only need the new pids.
            full = self._system_enabled
            table = self._table.refresh(full) if roots or full else {}
            samples = self._sample_processes(roots, table)
            if self._system_enabled:
                self._system = self._sample_system(table)
            if self.alerts is not None:
                self.alerts.after_round(self._snapshot, self._system)
            if self.gc is not None:
                self.gc.flush()
            self.rounds += 1
            self.cpu_seconds += time.thread_time() - cpu0
            return samples

    def _sample_processes(
        self, roots: list[WatchedProcess], table: dict[int, procfs.ProcStat]
    ) -> list[ProcessSample]:
        members = self._membership(roots, table)
        samples: list[ProcessSample] = []
        snapshot: list[tuple[ProcessSample, SampledProcess]] = []
        zombies: list[ProcessSample] = []
        by_root: dict[int, list[int]] = {}
        for member in members.values():
            by_root.setdefault(member.root.pid, []).append(member.pid)
            sample = self._read(member, table[member.pid].ppid)
            if sample.status == RUNNING:
                snapshot.append((sample, member))
            elif sample.status == ZOMBIE:
                zombies.append(sample)
            samples.append(sample)
        # Processes that were sampled last round and are gone now: reported once.
        for pid, member in self._members.items():
            if pid not in members and not _alive(table, pid, member.start):
                samples.append(self._ended(member, GONE, None))
        status = {s.pid: s.status for s in samples}
        for root in roots:
            root.members = tuple(by_root.get(root.pid, ()))
            entry = table.get(root.pid)
            if root.pid in status:
                root.status = status[root.pid]
            elif entry is not None and (root.pid, entry.start_ticks) in self._denied:
                root.status = DENIED
            elif root.status != GONE:
                root.status = GONE
                if root.pid not in self._members:  # not reported above: never seen at all
                    samples.append(self._root_missing(root))
        self._members = {
            pid: m for pid, m in members.items() if status.get(pid) in (RUNNING, ZOMBIE)
        }
        self._snapshot = snapshot
        self._zombies = zombies
        return samples

    def _root_missing(self, root: WatchedProcess) -> ProcessSample:
        """A watched pid that is not in the process table: exited, or never existed."""
        log.debug("watched process %d (agent %s) is gone", root.pid, root.agent_id)
        return ProcessSample(root.pid, root.pid, root.agent_id, GONE)

    def _membership(
        self, roots: list[WatchedProcess], table: dict[int, procfs.ProcStat]
    ) -> dict[int, SampledProcess]:
        """Who is sampled this round, attributed to the nearest watched ancestor.

        A root's tree is its live descendants plus the processes already attributed to it that
        are still alive: a grandchild reparented to init after its parent exited stays with the
        agent that started it.
        """
        root_pids = {r.pid for r in roots}
        children = procfs.children_map(table) if any(r.descendants for r in roots) else {}
        previous = self._members
        members: dict[int, SampledProcess] = {}
        self._denied = {key for key in self._denied if _alive(table, *key)}

        def claim(pid: int, root: WatchedProcess) -> bool:
            entry = table.get(pid)
            if entry is None or pid in members or (pid, entry.start_ticks) in self._denied:
                return False
            old = previous.get(pid)
            if old is not None and old.start == entry.start_ticks and old.root is root:
                members[pid] = old
                return True
            try:
                members[pid] = SampledProcess(pid, entry.start_ticks, root)
            except psutil.Error:  # exited (or hidden) since the scan
                return False
            return True

        carried: dict[int, list[SampledProcess]] = {}  # previous members by root, looked up once
        for old in previous.values():
            carried.setdefault(old.root.pid, []).append(old)
        for root in roots:
            frontier: list[int] = []
            if claim(root.pid, root):
                frontier.append(root.pid)
            if not root.descendants:
                continue
            for old in carried.get(root.pid, ()):
                if old.root is not root or old.pid in root_pids:
                    continue
                if _alive(table, old.pid, old.start) and claim(old.pid, root):
                    frontier.append(old.pid)
            while frontier:
                for child in children.get(frontier.pop(), ()):
                    if child not in root_pids and claim(child, root):
                        frontier.append(child)
        return members

    def _read(self, member: SampledProcess, ppid: int) -> ProcessSample:
        """One psutil pass over a process (its stat file is read once for all fields).

        ``ppid`` comes from the process table (psutil's ``ppid()`` re-reads the process to guard
        against pid reuse, which the table's start times already do)."""
        proc = member.proc
        try:
            with proc.oneshot():
                # The table's state may be that of an earlier round: ask afresh.
                if proc.status() == psutil.STATUS_ZOMBIE:
                    return self._ended(member, ZOMBIE, ppid)
                mem = proc.memory_info()
                cpu = proc.cpu_times()
                threads = proc.num_threads()
                ctx = proc.num_ctx_switches()
                fds = proc.num_fds()
        except psutil.ZombieProcess:
            return self._ended(member, ZOMBIE, ppid)
        except psutil.NoSuchProcess:
            return self._ended(member, GONE, ppid)
        except psutil.AccessDenied:
            self._denied.add((member.pid, member.start))
            return self._ended(member, DENIED, ppid)
        now = time.monotonic()
        total = cpu.user + cpu.system
        if member.prev_cpu is None:
            # First sight: the average since the process started (psutil's first cpu_percent()
            # would be a meaningless 0).
            elapsed = time.time() - procfs.ticks_to_time(member.start)
            busy_user, busy_system = cpu.user, cpu.system
        else:
            elapsed = now - member.prev_wall
            busy_user, busy_system = cpu.user - member.prev_user, cpu.system - member.prev_system
        member.prev_cpu, member.prev_wall = total, now
        member.prev_user, member.prev_system = cpu.user, cpu.system
        # per mode, as process.cpu.utilization's cpu.mode wants: Δcpu_mode / Δwall / cpu count
        scale = 1.0 / elapsed / self._cpu_count if elapsed > 0 else 0.0
        user, system = _share(busy_user * scale), _share(busy_system * scale)
        return ProcessSample(
            member.pid, member.root.pid, member.root.agent_id, RUNNING, ppid,
            rss=mem.rss, vms=mem.vms, cpu_user=cpu.user, cpu_system=cpu.system,
            cpu_utilization=_share(user + system), cpu_utilization_user=user,
            cpu_utilization_system=system, threads=threads, fds=fds,
            ctx_voluntary=ctx.voluntary, ctx_involuntary=ctx.involuntary,
        )  # fmt: skip

    def _ended(self, member: SampledProcess, status: str, ppid: int | None) -> ProcessSample:
        """A process that can no longer be measured; logged once per process and status."""
        key = (member.pid, member.start, status)
        if key not in self._noted:
            if len(self._noted) >= _MAX_NOTED:
                self._noted.clear()
            self._noted.add(key)
            log.debug("process %d (agent %s, watched pid %d) is %s; no longer sampled",
                      member.pid, member.root.agent_id, member.root.pid, status)  # fmt: skip
        return ProcessSample(member.pid, member.root.pid, member.root.agent_id, status, ppid)

    def _sample_system(self, table: dict[int, procfs.ProcStat]) -> SystemSample | None:
        try:
            vm = psutil.virtual_memory()
            load = os.getloadavg()
        except (OSError, psutil.Error):
            log.debug("system figures unavailable", exc_info=True)
            return None
        memory = {
            str(SystemMemoryState.USED): vm.used,
            str(SystemMemoryState.FREE): vm.free,
            str(SystemMemoryState.CACHED): getattr(vm, "cached", 0),
            str(SystemMemoryState.BUFFERS): getattr(vm, "buffers", 0),
        }
        return SystemSample(memory, vm.total, load, procfs.state_counts(table))

    # --- what the instruments read --------------------------------------------------------------
    def current(self) -> list[tuple[ProcessSample, SampledProcess]]:
        """The latest round's (sample, member) pairs; without the background thread (and
        before stop() took the last round), a collection samples for itself first."""
        if not self.running and not self._stopped:
            self._safe_round()
        return self._snapshot

    def latest(self) -> list[tuple[ProcessSample, SampledProcess]]:
        """The latest round's (sample, member) pairs, as they are."""
        return self._snapshot

    @property
    def system_sample(self) -> SystemSample | None:
        return self._system


def _share(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _alive(table: dict[int, procfs.ProcStat], pid: int, start_ticks: int) -> bool:
    entry = table.get(pid)
    return entry is not None and entry.start_ticks == start_ticks
