"""Hung workers: alive, idle, and blocked reading a pipe or socket that nobody closes.

The classic case is a ``claude --print`` worker whose orchestrator never closes its stdin: the
worker reads fd 0 forever, the orchestrator holds the write end forever, and both look healthy.

**The rule.** A watched process is *hung* when, at every check for :attr:`HungDetector.after`
seconds (``SWARMSCOPE_HUNG_AFTER``, default 30):

1. it is asleep (state ``S``) in a read-family system call on a pipe or socket
   (``/proc/PID/syscall``; a read-wait ``wchan`` when the syscall file is unreadable);
2. the same call on the same fd, with **no CPU time gained** (schedstat) and **no bytes read**
   (``rchar`` of ``/proc/PID/io``) since the idle clock started; and
3. for a pipe, the write end is still open in some other process (a blocked pipe read means a
   writer exists, else it would return EOF): the holder is named when visible.

**Waiting for work is not hung.** A worker whose orchestrator feeds it (a task every second, or
every minute under a 30 s threshold) reads bytes, which restarts its idle clock. A worker that
waits on a timer, a lock or a condition variable, or in an event loop (``poll`` / ``epoll`` /
``select``, as Node.js does) is not in a read and is never judged. A pipe whose only writer is
the reader itself (a self-pipe) is skipped. So the rule's one blind spot is a worker that
legitimately blocks in ``read`` longer than the threshold between tasks: raise
``SWARMSCOPE_HUNG_AFTER`` above the longest pause between tasks.

The idle clock starts at the first check that sees the process blocked, so ``idle_seconds``
is a lower bound. Each hung process is reported once (the first time it crosses the threshold;
its idle time is brought up to date at the end).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from swarmscope import procfs
from swarmscope.watch import waits
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
    fd: int | None
    cpu: int | None
    read: int | None
    since: float  # time.monotonic() when this wait started


class HungDetector:
    """Checks watched processes now and then; remembers each hung one once."""

    def __init__(self, after: float) -> None:
        self.after = after
        self.every = min(1.0, max(0.1, after / 4))  # seconds between checks
        self.found: dict[tuple[int, int], HungWorker] = {}
        self._idle: dict[tuple[int, int], _Idle] = {}
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
            elif idle >= self.after:
                worker = _describe(key, name, agent_id, state.fd, idle)
                if worker is not None:
                    self.found[key] = worker
                    new.append(worker)
        for key in set(self._idle) - seen:
            del self._idle[key]
        return new

    def _observe(self, key: tuple[int, int], now: float) -> _Idle | None:
        """The process's current idle wait, or None when it is not blocked in a read."""
        pid = key[0]
        stat = procfs.read_stat(pid)
        if stat is None or stat.key != key or stat.state != "S":
            return None
        blocked = waits.blocked_read(pid)
        if blocked is None:
            return None
        if blocked.fd is not None and not _is_pipe_or_socket(waits.fd_target(pid, blocked.fd)):
            return None  # a terminal, a file, a device: not an open-ended channel
        cpu, read = waits.cpu_ns(pid), waits.bytes_read(pid)
        last = self._idle.get(key)
        if last is None or (last.fd, last.cpu, last.read) != (blocked.fd, cpu, read):
            last = self._idle[key] = _Idle(blocked.fd, cpu, read, now)
        return last


def _is_pipe_or_socket(target: str | None) -> bool:
    return bool(target) and target.startswith(("pipe:[", "socket:["))  # type: ignore[union-attr]


def _describe(
    key: tuple[int, int], name: str, agent_id: str | None, fd: int | None, idle: float
) -> HungWorker | None:
    """The hung worker with what it waits on, or None for a self-pipe."""
    pid = key[0]
    target = waits.fd_target(pid, fd) if fd is not None else None
    holder: int | None = None
    if target is None:
        what = "a pipe or socket (fd unknown: /proc/PID/syscall is not readable)"
    elif target.startswith("pipe:["):
        writers = waits.writers_of(target, skip=pid)
        if not writers and _writes_itself(pid, target):
            return None  # a self-pipe: its own threads may write
        channel = "stdin pipe" if fd == 0 else "pipe"
        what = f"{channel} (fd {fd}), write end held by {_holder_words(writers)}"
        holder = writers[0][0] if writers else None
    else:
        channel = "stdin socket" if fd == 0 else "socket"
        what = f"{channel} (fd {fd}, {target}), peer still connected"
    return HungWorker(pid, key[1], name, agent_id, fd, what, holder, round(idle, 3))


def _writes_itself(pid: int, target: str) -> bool:
    return any(
        waits.fd_target(pid, fd) == target
        and waits.fd_access(pid, fd) in (waits.ACCESS_WRITE, waits.ACCESS_BOTH)
        for fd in waits.fds_of(pid)
    )


def _holder_words(writers: list[tuple[int, int]]) -> str:
    if not writers:
        return "a process this user cannot see"
    named = [f"pid {pid} ({process_name(pid)})" for pid, _fd in writers[:3]]
    more = f" and {len(writers) - 3} more" if len(writers) > 3 else ""
    return ", ".join(named) + more
