"""What a sleeping process waits on: the facts :mod:`swarmscope.procfs` reads, interpreted for
the hung-worker rule (:mod:`.hung`).

Two kinds of wait can be judged:

* a **blocking read** on one fd (``read``, ``recvfrom`` … in ``/proc/PID/syscall``, or a
  read-wait ``wchan`` when that file is unreadable): :func:`blocked_read`;
* an **event loop** asleep in ``epoll_wait`` with no timeout (Node.js, asyncio, most event
  loops): :func:`epoll_wait`, then :func:`epoll_feeds` reads its interest sets from
  ``/proc/PID/fdinfo`` and says whether everything that could wake it is input from another
  process — or ``None`` when something else could (a network socket, an armed timer, a
  file watch, a thread with a timed wait).

``poll`` and ``select`` waits are never judged: their fd sets live in the process's memory,
which ``/proc`` does not show.
"""

from __future__ import annotations

import platform
import socket
from typing import NamedTuple

from swarmscope import procfs
from swarmscope.watch import sockets

_MACHINE = platform.machine()
# Read-family system calls by architecture: read, readv, pread64, preadv, recvfrom, recvmsg.
_READ_SYSCALLS: dict[str, frozenset[int]] = {
    "x86_64": frozenset({0, 17, 19, 45, 47, 295}),
    "aarch64": frozenset({63, 65, 67, 69, 207, 212}),
}
# Kernel sleep sites of a blocking read on a pipe or socket (names vary across kernels).
READ_WCHANS = frozenset({
    "pipe_read", "anon_pipe_read", "pipe_wait", "pipe_wait_readable",
    "unix_stream_read_generic", "unix_stream_data_wait", "unix_dgram_recvmsg",
    "sk_wait_data", "wait_woken", "skb_wait_for_more_packets", "__skb_wait_for_more_packets",
    "tcp_recvmsg",
})  # fmt: skip
# epoll_wait and epoll_pwait (epfd, events, maxevents, timeout in ms); epoll_pwait2 takes a
# timespec pointer instead (NULL: no timeout).
_EPOLL_SYSCALLS = {"x86_64": frozenset({232, 281}), "aarch64": frozenset({22})}
_EPOLL_PWAIT2 = 441
_FUTEX = {"x86_64": 202, "aarch64": 98}
_FUTEX_WAIT_OPS = frozenset({0, 9})  # FUTEX_WAIT, FUTEX_WAIT_BITSET; arg 4: timeout pointer
EPOLLIN, EPOLLOUT = 0x1, 0x4
# Loop-internal wakeups: written only by the process's own threads (eventfd: libuv's
# uv_async), or signals, which may come to anyone and are no reason to sit idle.
_INTERNAL = frozenset({"anon_inode:[eventfd]", "anon_inode:[signalfd]", "anon_inode:[eventpoll]"})


class BlockedRead(NamedTuple):
    """A process asleep in a read: on ``fd`` (None when only ``wchan`` could tell)."""

    fd: int | None
    wchan: str | None


class Feed(NamedTuple):
    """An input an event loop waits on: ``fd`` is ``target`` (``pipe:[N]`` / ``socket:[N]``);
    another process holds ``other_end`` (the pipe itself, or the socket's peer)."""

    fd: int
    target: str
    other_end: str


def blocked_read(pid: int) -> BlockedRead | None:
    """The read ``pid`` is blocked in, or None when it is not blocked reading.

    ``/proc/PID/syscall`` decides when readable (the call number and its first argument, the
    fd); otherwise a read-wait ``wchan`` says "some read" without the fd."""
    where = procfs.read_wchan(pid)
    call = procfs.read_syscall(pid)
    if call is not None:
        reads = _READ_SYSCALLS.get(_MACHINE, frozenset())
        return BlockedRead(call.args[0], where) if call.number in reads else None
    return BlockedRead(None, where) if where in READ_WCHANS else None


def epoll_wait(pid: int, tid: int | None = None, *, timed: bool = False) -> int | None:
    """The epoll fd the thread (default: the main one) waits on *with no timeout*, else None:
    not in epoll, a timer pending (libuv and asyncio pass their next timer as the timeout),
    or ``syscall`` unreadable (then nothing says whether a timer is pending). With ``timed``,
    a wait with a timeout counts too: when something else says which timers are pending (the
    Node.js preload's status, :mod:`.node_status`)."""
    call = procfs.read_syscall(pid, tid)
    if call is None or len(call.args) < 4:
        return None
    if call.number in _EPOLL_SYSCALLS.get(_MACHINE, frozenset()):
        timeout = call.args[3] & 0xFFFFFFFF  # an int in a 64-bit register
        return call.args[0] if timed or timeout >= 0x80000000 else None  # negative: forever
    if call.number == _EPOLL_PWAIT2 and (timed or call.args[3] == 0):
        return call.args[0]
    return None


def awake(pid: int) -> bool:
    """Some thread of ``pid`` is running or runnable outside a system call right now. For a
    process that a timer wakes a hundred times a second (the Node.js preload's), a moment
    caught between two waits, which says nothing about whether it is stuck."""
    return any(
        (call := procfs.read_syscall(pid, tid)) is not None and call.number == -1
        for tid in procfs.thread_ids(pid)
    )


def threads_quiet(pid: int) -> bool:
    """Every thread but the main one asleep with no timeout: in a futex wait without a
    deadline or an epoll wait without a timeout (their interest sets are read with the main
    one's). A thread in a timed wait, a sleep or anything else may wake the process."""
    for tid in procfs.thread_ids(pid):
        if tid == pid or epoll_wait(pid, tid) is not None:
            continue
        call = procfs.read_syscall(pid, tid)
        untimed_futex = (
            call is not None and call.number == _FUTEX.get(_MACHINE) and len(call.args) > 3
            and call.args[1] & 0x7F in _FUTEX_WAIT_OPS and call.args[3] == 0
        )  # fmt: skip
        if not untimed_futex:
            return False
    return True


def epoll_feeds(pid: int) -> tuple[Feed, ...] | None:
    """The inputs from other processes the event loop of ``pid`` waits on, when they are all
    that could wake it (empty: nothing at all); None when something else could."""
    own = {fd: procfs.fd_target(pid, fd) for fd in procfs.fds_of(pid)}
    polls = [fd for fd, target in own.items() if target == "anon_inode:[eventpoll]"]
    feeds: list[Feed] = []
    for epfd in polls:
        entries = procfs.epoll_interest(pid, epfd)
        if entries is None:
            return None
        for fd, events in entries:
            kind, feed = _entry(pid, fd, events, own)
            if kind == "other":
                return None
            if feed is not None and feed not in feeds:
                feeds.append(feed)
    return tuple(feeds)


def _entry(pid: int, fd: int, events: int, own: dict[int, str | None]) -> tuple[str, Feed | None]:
    """One interest-set entry: ``("internal", None)``, ``("feed", Feed)`` or
    ``("other", None)`` (anything that may wake the loop without another process's input)."""
    target = own.get(fd)
    if target in _INTERNAL:
        return "internal", None
    if target == "anon_inode:[timerfd]":
        return ("internal", None) if procfs.timerfd_armed(pid, fd) is False else ("other", None)
    if target is None or not events & EPOLLIN or events & EPOLLOUT:
        return "other", None  # gone, or waiting to write (a full pipe is another story)
    if target.startswith("pipe:["):
        if _holds_for_writing(pid, target, own):
            return "internal", None  # a self-pipe: libuv's signal pipe, its own threads
        return "feed", Feed(fd, target, target)
    if target.startswith("socket:["):
        return _socket_entry(fd, target, own)
    return "other", None  # a terminal, a device, inotify, a file


def _socket_entry(fd: int, target: str, own: dict[int, str | None]) -> tuple[str, Feed | None]:
    unix = sockets.unix_socket(int(target[8:-1]))
    if unix is None or unix.peer is None:
        return "other", None  # TCP/UDP (a request, a server), or a listening socket
    other_end = f"socket:[{unix.peer}]"
    if other_end in own.values():
        return "internal", None  # a socketpair with itself (asyncio's self-pipe)
    if fd == 0 and unix.type == socket.SOCK_STREAM and unix.state == sockets.CONNECTED:
        return "feed", Feed(fd, target, other_end)  # stdin as a Node.js parent gives it
    return "other", None  # an IPC channel or a local service: messages may come


def _holds_for_writing(pid: int, target: str, own: dict[int, str | None]) -> bool:
    return any(
        t == target and procfs.fd_access(pid, fd) in (procfs.ACCESS_WRITE, procfs.ACCESS_BOTH)
        for fd, t in own.items()
    )
