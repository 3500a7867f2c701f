"""What a process is blocked on, from ``/proc``: the facts the hung-worker rule needs.

:mod:`swarmscope.procfs` reads identity and state; this module reads the few extra files that
say *what a sleeping process waits for*, all with plain ``os`` calls:

* ``/proc/PID/syscall``: the blocking system call and its arguments (``0 0x0 ...`` is
  read(fd 0)); needs the same user *and* ptrace access (root, or an ancestor under Yama
  ptrace_scope 1);
* ``/proc/PID/wchan``: the kernel function it sleeps in (``anon_pipe_read``,
  ``unix_stream_read_generic``, ``sk_wait_data``); anyone; ``0`` without kernel symbols;
* ``/proc/PID/schedstat``: CPU time in ns (finer than ``stat`` ticks); anyone;
* ``/proc/PID/io``: ``rchar``, the bytes it has read; same user with ptrace access;
* ``/proc/PID/fd/N``: ``pipe:[inode]`` / ``socket:[inode]``; same user (or root);
* ``/proc/PID/fdinfo/N``: ``flags`` (octal; access mode 0 read, 1 write, 2 both); same user.

Everything returns None when the file cannot be read: an unprivileged watcher simply knows less.
"""

from __future__ import annotations

import os
import platform
from typing import NamedTuple

from swarmscope.procfs import CLK_TCK, list_pids

_PROC = "/proc"

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
ACCESS_READ, ACCESS_WRITE, ACCESS_BOTH = 0, 1, 2


class BlockedRead(NamedTuple):
    """A process asleep in a read: on ``fd`` (None when only ``wchan`` could tell)."""

    fd: int | None
    wchan: str | None


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(4096).decode(errors="replace")
    except OSError:
        return None


def wchan(pid: int) -> str | None:
    """The kernel function ``pid`` sleeps in, or None (``0`` means "not known")."""
    text = _read(f"{_PROC}/{pid}/wchan")
    return text.strip() if text and text.strip() not in ("", "0") else None


def blocked_read(pid: int) -> BlockedRead | None:
    """The read ``pid`` is blocked in, or None when it is not blocked reading.

    ``/proc/PID/syscall`` decides when readable (the call number and its first argument, the
    fd); otherwise a read-wait ``wchan`` says "some read" without the fd."""
    where = wchan(pid)
    text = _read(f"{_PROC}/{pid}/syscall")
    if text and text.strip() and not text.startswith("running"):
        fields = text.split()
        try:
            number, fd = int(fields[0]), int(fields[1], 16)
        except (IndexError, ValueError):
            return None
        reads = _READ_SYSCALLS.get(platform.machine(), frozenset())
        return BlockedRead(fd, where) if number in reads else None
    if text is not None and text.startswith("running"):
        return None
    return BlockedRead(None, where) if where in READ_WCHANS else None


def cpu_ns(pid: int) -> int | None:
    """CPU time ``pid`` has used, in ns (schedstat; ``stat`` utime+stime as a fallback)."""
    text = _read(f"{_PROC}/{pid}/schedstat")
    if text:
        try:
            return int(text.split()[0])
        except (IndexError, ValueError):
            pass
    text = _read(f"{_PROC}/{pid}/stat")
    if not text:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK
    except (IndexError, ValueError):
        return None


def bytes_read(pid: int) -> int | None:
    """``rchar`` of ``/proc/PID/io``: bytes read so far (None without ptrace access)."""
    text = _read(f"{_PROC}/{pid}/io")
    for line in (text or "").splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return None


def fd_target(pid: int, fd: int) -> str | None:
    """What fd ``fd`` of ``pid`` refers to: ``pipe:[123]``, ``socket:[456]``, a path."""
    try:
        return os.readlink(f"{_PROC}/{pid}/fd/{fd}")
    except OSError:
        return None


def fd_access(pid: int, fd: int) -> int | None:
    """The access mode of fd ``fd`` of ``pid`` (:data:`ACCESS_READ` / WRITE / BOTH)."""
    text = _read(f"{_PROC}/{pid}/fdinfo/{fd}")
    for line in (text or "").splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & 0o3
    return None


def fds_of(pid: int) -> list[int]:
    """The open fds of ``pid`` (empty when unreadable)."""
    try:
        return [int(name) for name in os.listdir(f"{_PROC}/{pid}/fd") if name.isdigit()]
    except OSError:
        return []


def writers_of(target: str, *, skip: int | None = None) -> list[tuple[int, int]]:
    """``(pid, fd)`` of every visible process holding ``target`` (``pipe:[N]``) open for
    writing, ``skip`` excluded. Processes of other users are invisible without root."""
    found = []
    for pid in list_pids():
        if pid == skip:
            continue
        for fd in fds_of(pid):
            if fd_target(pid, fd) == target and fd_access(pid, fd) in (ACCESS_WRITE, ACCESS_BOTH):
                found.append((pid, fd))
                break
    return found
