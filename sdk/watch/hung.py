"""Hung workers: alive, idle, and waiting on input that another live process never sends nor
closes.

The classic case is a ``claude --print`` worker whose orchestrator never closes its stdin: the
worker waits on fd 0 forever, the orchestrator holds the other end forever, and both look
healthy. A worker in C or Python waits in ``read``; a Node.js worker waits in its event loop
(``epoll_wait``) with stdin in the loop's interest set.

**The rule.** A watched process is *hung* when, at every check for :attr:`HungDetector.after`
seconds (``SWARMSCOPE_HUNG_AFTER``, default 30), it is asleep (state ``S``), with **no CPU time
gained** by any of its threads and **no bytes read** (``rchar``), and either

* **blocked in a read** on the same pipe or socket fd (:func:`.waits.blocked_read`); for a
  pipe, its write end is open in another process (else the read would return EOF); or
* **asleep in epoll_wait with no timeout** (no timer pending), every other thread in an
  untimed wait, and the loop's interest sets unchanged and holding nothing but loop-internal
  entries (eventfd, signalfd, self-pipes, disarmed timerfds) and *feeds*: pipes registered for
  input, or its stdin as a connected Unix socket (how a Node.js parent passes ``stdio:
  'pipe'``), whose other end another live process holds (:func:`.waits.epoll_feeds`). A
  network socket, any other socket, an armed timerfd, a terminal or a file watch in the set
  means it may be woken otherwise: not judged.

**With the Node.js preload** (on by default under ``swarmscope run``) the preload's own
unref'd timers put a timeout on every epoll wait and wake the process a hundred times a
second, gaining it a little CPU. For a process whose preload publishes a fresh status
(:mod:`.node_status`), the status stands in for the timeout and a CPU budget for "no CPU":
the event-loop rule above holds with any timeout, and at every check the status says that
nothing but stream handles keeps the loop alive (no ``Timeout``, no request, server, child or
pending file operation of the program's own), its event loop is idle, and no bytes were read
on any feed (the status's per-fd counts; ``rchar`` also counts libuv's eventfd reads); and the
CPU time gained since the wait began stays within ``SWARMSCOPE_HUNG_NODE_CPU`` of a core (the
preload's own work costs about 0.5 %). A check that catches a thread awake between two of the
preload's wakeups neither judges nor restarts the clock. A missing or stale status falls back
to the rule above, which judges nothing while the preload's timers run (so no verdict rather
than a false one) and is right again once they stop (a preload that could not write stops).

A writer that is the waiter's own descendant is excluded (it waits for its child's output,
and a stuck child is judged on its own).

**Waiting for work is not hung.** A worker whose orchestrator feeds it reads bytes, which
restarts its idle clock; a worker that polls a timer has a timeout in its epoll wait or gains
CPU; one waiting on an HTTP response has a socket in its interest set. The rule's blind spot
is a worker that legitimately waits on its input longer than the threshold between tasks:
raise ``SWARMSCOPE_HUNG_AFTER`` above the longest pause. See docs/watcher.md for what an
unprivileged watcher cannot see.

The idle clock starts at the first check that sees the process waiting, so ``idle_seconds`` is
a lower bound. Each hung process is reported once (when it crosses the threshold; its idle time
is brought up to date at the end).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from swarmscope import procfs
from swarmscope import settings as config
from swarmscope.watch import node_status, waits
from swarmscope.watch.naming import process_name


@dataclass
class HungWorker:
    """One process found hung."""

    pid: int
    start_ticks: int
    name: str
    agent_id: str | None
    fd: int | None
    waiting_on: str  # e.g. "stdin pipe (fd 0), write end held by pid 123 (claude-flow ...)"
    holder_pid: int | None
    idle_s: float


@dataclass
class _Idle:
    # what it waits on: ("read", fd), ("epoll", feeds) or, with the preload,
    # ("node", feeds, bytes read on each feed)
    wait: tuple[Any, ...]
    cpu: int | None
    read: int | None
    since: float  # time.monotonic() when this wait started
    seen: bool = True  # this check saw the wait (False: caught awake between two waits)


_AWAKE = "awake"  # a preloaded process caught between two of the preload's wakeups
# CPU a preloaded process may gain beyond its budget over a whole wait: one garbage
# collection or a late export on a loaded machine (the preload's exports cost ~1 ms each).
_CPU_ALLOWANCE_NS = 20_000_000
# What one of the preload's exports costs, twice over (measured ~1.5 ms): added to the budget
# once per export interval, since a shorter interval costs more (0.1 s: ~2.5 % of a core).
_EXPORT_CPU_S = 0.003
_RETRIES, _RETRY_PAUSE_S = 3, 0.002


class HungDetector:
    """Checks watched processes now and then; remembers each hung one once."""

    def __init__(self, after: float, node_cpu: float | None = None) -> None:
        self.after = after
        self.every = min(1.0, max(0.1, after / 4))  # seconds between checks
        # share of a core a process with the Node.js preload may gain and still be idle
        self.node_cpu = config.hung_node_cpu() if node_cpu is None else node_cpu
        self.found: dict[tuple[int, int], HungWorker] = {}
        self._idle: dict[tuple[int, int], _Idle] = {}
        self._status_paths: dict[tuple[int, int], Any] = {}
        self._last = 0.0

    def due(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) - self._last >= self.every

    def check(
        self, processes: Iterable[tuple[tuple[int, int], str, str | None]]
    ) -> list[HungWorker]:
        """Look at ``(key, name, agent id)`` of live processes; return the newly hung."""
        now = self._last = time.monotonic()
        seen, new = set(), []
        for key, name, agent_id in processes:
            seen.add(key)
            state = self._observe(key, now)
            if state is None:
                self._idle.pop(key, None)
                continue
            idle = now - state.since
            if key in self.found:
                self.found[key].idle_s = round(idle, 3)
            elif idle >= self.after and state.seen:
                worker = _describe(key, name, agent_id, state.wait, idle)
                if worker is not None:
                    self.found[key] = worker
                    new.append(worker)
        for key in set(self._idle) - seen:
            del self._idle[key]
        for key in set(self._status_paths) - seen:
            del self._status_paths[key]
        return new

    def check_tree(self, members: Mapping[tuple[int, int], Any], agents: Mapping[Any, Any],
                   say: bool = True) -> None:  # fmt: skip
        """Check the live members of a watched tree (named after their agents); note each
        newly hung one on stderr, unless ``say`` is false (a live alert says it instead)."""
        live = []
        for key, member in members.items():
            if member.exited:
                continue
            agent = agents.get(key)
            name = agent.name if agent else member.stat.comm
            live.append((key, name, agent.agent_id if agent else None))
        found = self.check(live)
        if not say:
            return
        for worker in found:
            print(
                f"swarmscope: pid {worker.pid} ({worker.name}) looks hung: idle "
                f"{worker.idle_s:.0f}s waiting on {worker.waiting_on}",
                file=sys.stderr,
            )

    def _observe(self, key: tuple[int, int], now: float) -> _Idle | None:
        """The process's current idle wait, or None when it is in no wait the rule judges."""
        pid = key[0]
        stat = procfs.read_stat(pid)
        if stat is None or stat.key != key:
            return None
        status = self._node_status(stat)
        if status is not None:
            return self._observe_preloaded(stat, status, now)
        if stat.state != "S":
            return None
        wait = _current_wait(pid)
        if wait is None:
            return None
        cpu, read = procfs.read_cpu_ns(pid), procfs.read_bytes_read(pid)
        last = self._idle.get(key)
        if last is None or (last.wait, last.cpu, last.read) != (wait, cpu, read):
            last = self._idle[key] = _Idle(wait, cpu, read, now)
        return last

    def _node_status(self, stat: procfs.ProcStat) -> node_status.NodeStatus | None:
        """The fresh status of the process's Node.js preload; None when it runs none, or
        when the status is missing or stale (then the rule without the preload applies)."""
        if stat.key not in self._status_paths:  # the environment is read once per process
            self._status_paths[stat.key] = node_status.status_path(stat.pid)
        path = self._status_paths[stat.key]
        return None if path is None else node_status.read_status(path, stat)

    def _observe_preloaded(
        self, stat: procfs.ProcStat, status: node_status.NodeStatus, now: float
    ) -> _Idle | None:
        """:meth:`_observe` for a process whose preload says which of its timers are its
        own: any epoll timeout, and CPU within the preload's budget."""
        last = self._idle.get(stat.key)
        wait = _preloaded_wait(stat.pid, status)
        if wait == _AWAKE:
            if last is not None:
                last.seen = False
            return last
        if wait is None:
            return None
        cpu = procfs.read_cpu_ns(stat.pid)
        budget = self.node_cpu + _EXPORT_CPU_S / max(status.interval_s, 0.05)
        if last is None or last.wait != wait or not _within(last, cpu, now, budget):
            last = self._idle[stat.key] = _Idle(wait, cpu, None, now)
        last.seen = True
        return last


def _within(last: _Idle, cpu: int | None, now: float, share: float) -> bool:
    """Whether the CPU time gained since the wait began stays within ``share`` of a core."""
    if cpu is None or last.cpu is None:
        return False
    return cpu - last.cpu <= share * (now - last.since) * 1e9 + _CPU_ALLOWANCE_NS


def _current_wait(pid: int) -> tuple[Any, ...] | None:
    """``("read", fd)`` for a read on a pipe or socket, ``("epoll", feeds)`` for an event loop
    that only input from other processes can wake; None for any other wait."""
    blocked = waits.blocked_read(pid)
    if blocked is not None:
        if blocked.fd is not None and not _is_pipe_or_socket(procfs.fd_target(pid, blocked.fd)):
            return None  # a terminal, a file, a device: not an open-ended channel
        return ("read", blocked.fd)
    if waits.epoll_wait(pid) is None or not waits.threads_quiet(pid):
        return None
    feeds = waits.epoll_feeds(pid)
    return ("epoll", feeds) if feeds else None


def _preloaded_wait(pid: int, status: node_status.NodeStatus) -> tuple[Any, ...] | str | None:
    """``("node", feeds, bytes read on each)`` when only other processes' input can wake the
    loop of a process with the preload; :data:`_AWAKE` when it was caught between two waits;
    None when something else could wake it. Retried a few ms apart, since a thread may wake
    between two of the reads that make one look."""
    if not status.only_streams():
        return None  # a timer, a request, a server, a child of its own: not judged
    outcome: tuple[Any, ...] | str | None = None
    for attempt in range(_RETRIES):
        if attempt:
            time.sleep(_RETRY_PAUSE_S)
        if waits.awake(pid):
            outcome = _AWAKE
            continue
        outcome = _loop_wait(pid, status)
        if outcome is not None:
            return outcome
        outcome = _AWAKE if waits.awake(pid) else None
    return outcome


def _loop_wait(pid: int, status: node_status.NodeStatus) -> tuple[Any, ...] | None:
    if waits.epoll_wait(pid, timed=True) is None or not waits.threads_quiet(pid):
        return None
    feeds = waits.epoll_feeds(pid)
    reads = status.read_on(tuple(feed.fd for feed in feeds)) if feeds else None
    return None if reads is None else ("node", feeds, reads)


def _is_pipe_or_socket(target: str | None) -> bool:
    return bool(target) and target.startswith(("pipe:[", "socket:["))  # type: ignore[union-attr]


def _describe(
    key: tuple[int, int], name: str, agent_id: str | None, wait: tuple[Any, ...], idle: float
) -> HungWorker | None:
    """The hung worker with what it waits on, or None when, looked at closely, it is not."""
    pid = key[0]
    if wait[0] in ("epoll", "node"):
        found = _describe_feeds(pid, wait[1])
    else:
        found = _describe_read(pid, wait[1])
    if found is None:
        return None
    fd, what, holder = found
    return HungWorker(pid, key[1], name, agent_id, fd, what, holder, round(idle, 3))


def _describe_read(pid: int, fd: int | None) -> tuple[int | None, str, int | None] | None:
    target = procfs.fd_target(pid, fd) if fd is not None else None
    if target is None:
        return fd, "a pipe or socket (fd unknown: /proc/PID/syscall is not readable)", None
    if not target.startswith("pipe:["):
        channel = "stdin socket" if fd == 0 else "socket"
        return fd, f"{channel} (fd {fd}, {target}), peer still connected", None
    writers = procfs.holders_of(target, skip=pid, write=True)
    if not writers and _writes_itself(pid, target):
        return None  # a self-pipe: its own threads may write
    if writers and all(_descends_from(w, pid) for w, _fd in writers):
        return None  # it waits for its own child's output
    channel = "stdin pipe" if fd == 0 else "pipe"
    holder = writers[0][0] if writers else None
    return fd, f"{channel} (fd {fd}), write end held by {_holder_words(writers)}", holder


def _describe_feeds(pid: int, feeds: tuple[waits.Feed, ...]) -> tuple[int, str, int] | None:
    """The feed to name (stdin first) with its holder; None when a feed's other end is held
    by no visible process but the waiter's own children."""
    named = None
    for feed in sorted(feeds, key=lambda f: f.fd):
        pipe = feed.target.startswith("pipe:[")
        holders = procfs.holders_of(feed.other_end, skip=pid, write=pipe)
        holders = [h for h in holders if not _descends_from(h[0], pid)]
        if not holders:
            return None  # nobody else visibly holds it: not judged
        named = named or (feed, holders)
    if named is None:
        return None
    feed, holders = named
    kind = "pipe" if feed.target.startswith("pipe:[") else "socket"
    channel = f"stdin {kind}" if feed.fd == 0 else kind
    end = "write end" if kind == "pipe" else "other end"
    what = f"{channel} (fd {feed.fd}) in its event loop, {end} held by {_holder_words(holders)}"
    return feed.fd, what, holders[0][0]


def _descends_from(pid: int, ancestor: int) -> bool:
    seen = 0
    while pid > 1 and seen < 64:  # a cycle cannot happen, a deep tree may
        stat = procfs.read_stat(pid)
        if stat is None:
            return False
        if stat.ppid == ancestor:
            return True
        pid, seen = stat.ppid, seen + 1
    return False


def _writes_itself(pid: int, target: str) -> bool:
    return any(
        procfs.fd_target(pid, fd) == target
        and procfs.fd_access(pid, fd) in (procfs.ACCESS_WRITE, procfs.ACCESS_BOTH)
        for fd in procfs.fds_of(pid)
    )


def _holder_words(writers: list[tuple[int, int]]) -> str:
    if not writers:
        return "a process this user cannot see"
    named = [f"pid {pid} ({process_name(pid)})" for pid, _fd in writers[:3]]
    more = f" and {len(writers) - 3} more" if len(writers) > 3 else ""
    return ", ".join(named) + more
