"""Following a process tree through ``/proc`` and kernel process events: cheap enough to poll
every 50 ms.

A process is identified by ``(pid, start_ticks)`` so a reused pid is never mistaken for the
process that had it before. Membership of the tree is decided once, when a process is first
seen: its parent is already a member, or its environment carries our session marker
(``SWARMSCOPE_SESSION_ID``), which catches descendants that escaped through a double fork and
were reparented to init before any scan saw their parent.

Only ``/proc/<pid>/stat`` of *new* pids and of *members* is read on each scan; environments are
read once per new process of the same user. Linux only; every fact comes from
:mod:`swarmscope.procfs` (psutil is not used on the hot path: it re-reads several files per
process).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from swarmscope.conventions import ENV_SESSION_ID
from swarmscope.procfs import (
    CLK_TCK,
    ProcStat,
    environ_has,
    list_pids,
    read_cmdline,
    read_comm,
    read_exe,
    read_stat,
    read_uid,
)


@dataclass
class Member:
    """A process that belongs to the watched tree."""

    stat: ProcStat
    parent_key: tuple[int, int] | None  # the member it descends from, when known
    escaped: bool = False  # found by its session marker, not through its parent
    exited: bool = False  # seen as a zombie or gone, or reported by an exit event
    zombie: bool = False  # currently a zombie (exited, not reaped)
    zombie_since: float | None = None  # time.monotonic() when first seen a zombie
    gone: bool = False  # its /proc entry went away
    exit_status: int | None = None  # waitpid() status from an exit event
    argv: list[str] | None = None  # captured at an exec event (the process may be gone later)
    exe: str | None = None

    @property
    def status(self) -> int | None:
        """The waitpid() status when it was observed (exit event or zombie stat)."""
        return self.exit_status if self.exit_status is not None else self.stat.exit_status


@dataclass
class ScanResult:
    appeared: list[Member] = field(default_factory=list)
    exited: list[Member] = field(default_factory=list)  # ended (zombie now, or gone)
    reaped: list[Member] = field(default_factory=list)  # zombie entries that went away


class TreeTracker:
    """Follows the descendants of ``roots`` (and session-marked escapees) across scans."""

    def __init__(
        self,
        roots: Iterable[int] = (),
        session_id: str | None = None,
        include_roots: bool = True,
    ) -> None:
        self.session_id = session_id
        self.uid = os.getuid()
        self.members: dict[tuple[int, int], Member] = {}
        self._by_pid: dict[int, tuple[int, int]] = {}
        self._not_ours: set[int] = set()  # pids looked at and found unrelated
        self._self = os.getpid()
        self._include_roots = include_roots
        self._root_pids: set[int] = set()
        # with process events, a member found gone waits one round for its exit status
        self.defer_exits = False
        self._pending: list[Member] = []
        self.stat_every = 1  # read every live member's stat on every n-th scan
        self._scans = 0
        for pid in roots:
            self.add_root(pid)

    def add_root(self, pid: int) -> Member | None:
        """Start following ``pid`` (and everything it spawns)."""
        stat = read_stat(pid)
        if stat is None:
            return None
        self._root_pids.add(pid)
        member = Member(stat, parent_key=None)
        self._add(member)
        return member

    def _add(self, member: Member) -> None:
        self.members[member.stat.key] = member
        self._by_pid[member.stat.pid] = member.stat.key
        self._not_ours.discard(member.stat.pid)

    def member_by_pid(self, pid: int) -> Member | None:
        key = self._by_pid.get(pid)
        return self.members.get(key) if key else None

    def alive(self) -> list[Member]:
        return [m for m in self.members.values() if not m.exited]

    def zombies(self) -> list[Member]:
        return [m for m in self.members.values() if m.zombie]

    def scan(self, result: ScanResult | None = None) -> ScanResult:
        """One pass over ``/proc``: which members appeared, exited or were reaped since the last."""
        result = result if result is not None else ScanResult()
        pids = set(list_pids())
        self._not_ours &= pids
        self._check_members(pids, result)
        new = [
            pid
            for pid in pids
            if pid not in self._by_pid and pid not in self._not_ours and pid != self._self
        ]
        if not new:
            return result
        stats = {pid: s for pid in new if (s := read_stat(pid)) is not None}
        self._adopt_children(stats, result)
        if self._adopt_marked(stats, result):
            # children of an escapee found only now (a zombie has no environment to read)
            self._adopt_children(stats, result)
        self._not_ours.update(stats)
        return result

    def _check_members(self, pids: set[int], result: ScanResult) -> None:
        self._finish_pending(result)
        self._scans += 1
        # with exit events, a live member's stat (zombie state, pid reuse) is read less often
        full = self.stat_every <= 1 or self._scans % self.stat_every == 0
        for key, member in list(self.members.items()):
            if member.gone:
                continue
            pid = key[0]
            if pid in pids and not full and not member.exited:
                continue
            stat = read_stat(pid) if pid in pids else None
            if stat is None or stat.start_ticks != key[1]:
                # gone (or the pid now belongs to another process)
                member.gone = True
                if member.zombie:
                    member.zombie = False
                    result.reaped.append(member)
                elif not member.exited and self.defer_exits:
                    # its exit event may still be on its way: give it one more round
                    self._pending.append(member)
                    continue
                elif not member.exited:
                    member.exited = True
                    result.exited.append(member)
                if self._by_pid.get(pid) == key:
                    del self._by_pid[pid]
            elif stat.is_zombie and not member.zombie:
                member.stat = stat  # carries the exit status
                member.zombie = True
                member.zombie_since = time.monotonic()
                if not member.exited:
                    member.exited = True
                    result.exited.append(member)

    def _finish_pending(self, result: ScanResult) -> None:
        """Members found gone one round ago whose exit no event reported: ended, status unknown."""
        for member in self._pending:
            if not member.exited:
                member.exited = True
                result.exited.append(member)
            if self._by_pid.get(member.stat.pid) == member.stat.key:
                del self._by_pid[member.stat.pid]
        self._pending = []

    def finish(self, result: ScanResult) -> None:
        """End of watching: settle the members still waiting for an exit event."""
        self._finish_pending(result)

    def apply_events(self, events: Iterable[tuple], result: ScanResult) -> None:
        """Fold proc-connector events (see :class:`ProcConnector`) into the tree: processes
        too short-lived for any scan still appear, and every exit carries its status."""
        for event in events:
            kind, pid = event[0], event[1]
            if kind == "fork":
                self._event_fork(pid, event[2], event[3], event[4], result)
            elif kind == "exec":
                member = self.member_by_pid(pid)
                if member is not None and not member.exited:
                    member.argv, member.exe = event[2], event[3]
                    if event[4]:
                        member.stat = member.stat._replace(comm=event[4])
            elif kind == "comm":
                member = self.member_by_pid(pid)
                if member is not None:
                    member.stat = member.stat._replace(comm=event[2])
            elif kind == "exit":
                member = self.member_by_pid(pid)
                if member is not None and member.exit_status is None:
                    member.exit_status = event[2]
                    if not member.exited:
                        member.exited = True
                        result.exited.append(member)

    def _event_fork(
        self, pid: int, ppid: int, ts_ns: int, stat: ProcStat | None, result: ScanResult
    ) -> None:
        if pid in self._by_pid:
            return
        parent_key = self._by_pid.get(ppid)
        if parent_key is None:
            return
        if stat is None:  # gone before we could read it: what the event told us
            parent = self.members[parent_key].stat
            stat = ProcStat(pid, ppid, "X", ts_ns * CLK_TCK // 1_000_000_000, parent.comm)
        member = Member(stat, parent_key=parent_key)
        self._add(member)
        result.appeared.append(member)
        # a process already gone is ended by its exit event, or by the next scan if that was lost

    def _adopt_children(self, stats: dict[int, ProcStat], result: ScanResult) -> None:
        # repeat until stable: a child and its own child can both be new in one scan
        changed = True
        while changed:
            changed = False
            for pid, stat in list(stats.items()):
                parent_key = self._by_pid.get(stat.ppid)
                if parent_key is None:
                    continue
                member = Member(stat, parent_key=parent_key)
                if stat.is_zombie:
                    member.exited = member.zombie = True
                    member.zombie_since = time.monotonic()
                self._add(member)
                result.appeared.append(member)
                if member.exited:
                    result.exited.append(member)
                del stats[pid]
                changed = True

    def _adopt_marked(self, stats: dict[int, ProcStat], result: ScanResult) -> bool:
        if not self.session_id:
            return False
        found = False
        for pid, stat in list(stats.items()):
            if read_uid(pid) != self.uid or not environ_has(pid, ENV_SESSION_ID, self.session_id):
                continue
            member = Member(stat, parent_key=None, escaped=True)
            self._add(member)
            result.appeared.append(member)
            del stats[pid]
            found = True
        return found


# --- the fast path: kernel process events ------------------------------------------------------

_NETLINK_CONNECTOR = 11
_CN_IDX_PROC = 1
_CN_VAL_PROC = 1
_PROC_CN_MCAST_LISTEN = 1
_PROC_CN_MCAST_IGNORE = 2
_NLMSG_DONE = 3
_EV_FORK = 0x00000001
_EV_EXEC = 0x00000002
_EV_COMM = 0x00000200
_EV_EXIT = 0x80000000
_EVENT_OFFSET = 16 + 20  # nlmsghdr + cn_msg
_SO_RCVBUFFORCE = 33  # Linux; not in Python's socket module
# Every event of the machine arrives here, each costing ~1 KB of buffer: 4 MiB holds a burst of
# a few thousand forks and exits between two reads.
RECEIVE_BUFFER_BYTES = 4 << 20


def _set_receive_buffer(sock: Any, size: int) -> None:
    """``size`` bytes of receive buffer. SO_RCVBUF is capped by ``net.core.rmem_max`` (often
    208 KiB, a few hundred events); SO_RCVBUFFORCE is not, and needs CAP_NET_ADMIN, which
    subscribing needs as well."""
    import socket

    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


class ProcConnector:
    """Fork, exec and exit events for a process tree from the Linux proc connector.

    The kernel reports every fork/exec/exit on the machine over netlink the moment it happens,
    with the exit status of any process (not only our children). Subscribing needs
    CAP_NET_ADMIN (root, or a granted capability); :meth:`open` returns None otherwise and the
    caller relies on /proc scans alone. A listener thread keeps the set of pids in the tree
    (roots and every process forked by a member), snapshots ``/proc/<pid>`` at fork and exec
    while the process certainly still exists, and queues events for :meth:`drain`.
    """

    def __init__(self, sock: Any) -> None:
        import collections
        import threading

        self._sock = sock
        self._tree: set[int] = set()
        self._lock = threading.Lock()
        self._events: collections.deque[tuple] = collections.deque()
        self._stop = threading.Event()
        self.ready = threading.Event()  # set when an event was queued
        self.lost = 0  # receive-buffer overruns: events the kernel dropped
        self._thread = threading.Thread(
            target=self._run, name="swarmscope-proc-events", daemon=True
        )

    @classmethod
    def open(cls, buffer_bytes: int = RECEIVE_BUFFER_BYTES) -> ProcConnector | None:
        """Subscribe, or None where the connector is unavailable or not permitted. Events
        are queued in the kernel from here on, and read once :meth:`start` is called."""
        import socket
        import struct

        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_CONNECTOR)
        except (OSError, AttributeError):
            return None
        try:
            _set_receive_buffer(sock, buffer_bytes)
            sock.bind((0, _CN_IDX_PROC))
            op = struct.pack("=I", _PROC_CN_MCAST_LISTEN)
            cn = struct.pack("=IIIIHH", _CN_IDX_PROC, _CN_VAL_PROC, 0, 0, len(op), 0) + op
            sock.send(struct.pack("=IHHII", 16 + len(cn), _NLMSG_DONE, 0, 0, os.getpid()) + cn)
            sock.settimeout(0.2)
            # the subscription is confirmed by an acknowledgement (what == 0); EPERM otherwise
            sock.recv(256)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def start(self, roots: Iterable[int] = ()) -> None:
        """Follow ``roots`` and start reading the queued events (once per connector)."""
        for pid in roots:
            self.add(pid)
        self._thread.start()

    def add(self, pid: int) -> None:
        """Follow ``pid`` (and what it forks) from now on."""
        with self._lock:
            self._tree.add(pid)

    def drain(self) -> list[tuple]:
        """Queued events, oldest first: ("fork", pid, ppid, ts_ns, stat|None),
        ("exec", pid, argv, exe, comm), ("comm", pid, name), ("exit", pid, wait_status)."""
        out = []
        while self._events:
            out.append(self._events.popleft())
        return out

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(1.0)
        self._sock.close()

    def _run(self) -> None:
        import struct

        unpack_head = struct.Struct("=I4xQ").unpack_from  # what, cpu (skipped), timestamp
        unpack_4 = struct.Struct("=IIII").unpack_from
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                if exc.errno == 105:  # ENOBUFS: the kernel dropped events; scans cover them
                    self.lost += 1
                    continue
                return
            offset = 0
            while offset + _EVENT_OFFSET + 32 <= len(data):
                (length,) = struct.unpack_from("=I", data, offset)
                what, ts_ns = unpack_head(data, offset + _EVENT_OFFSET)
                base = offset + _EVENT_OFFSET + 16
                a, b, c_, d = unpack_4(data, base)
                self._handle(what, ts_ns, a, b, c_, d, data[base + 8 : base + 24])
                if length <= 0:
                    break
                offset += (length + 3) & ~3

    def _handle(
        self, what: int, ts_ns: int, a: int, b: int, c_: int, d: int, raw_comm: bytes
    ) -> None:
        if what == _EV_FORK:
            # parent_pid, parent_tgid, child_pid, child_tgid; threads have child_pid != tgid
            if c_ != d or b not in self._tree:
                return
            with self._lock:
                self._tree.add(d)
            self._events.append(("fork", d, b, ts_ns, read_stat(d)))
            self.ready.set()
        elif what == _EV_EXEC:
            if b in self._tree:
                comm = read_comm(b)  # first: the cheapest, for processes about to vanish
                self._events.append(("exec", b, read_cmdline(b), read_exe(b), comm))
        elif what == _EV_COMM:
            # process_pid, process_tgid, comm[16]: the new name, even if the process is gone
            # before its command line can be read
            if a == b and b in self._tree:
                comm = raw_comm.split(b"\0", 1)[0].decode(errors="replace")
                self._events.append(("comm", b, comm))
        elif what == _EV_EXIT:
            # process_pid, process_tgid, exit_code (waitpid status), exit_signal
            if a == b and b in self._tree:
                with self._lock:
                    self._tree.discard(b)
                self._events.append(("exit", b, c_))
                self.ready.set()
