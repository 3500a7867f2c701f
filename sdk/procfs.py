"""The one reader of process facts: ``/proc`` parsed with raw ``os`` calls.

One process identity everywhere: ``(pid, start_ticks)``, the start time from field 22 of
``/proc/<pid>/stat`` in clock ticks after boot, so a recycled pid is never taken for the process
that had it before. :attr:`ProcStat.create_time` turns it into epoch seconds.

The monitor, the watcher, the cleanup audit and the hung-worker rule all read through here;
the last section reads what a sleeping process waits on (:mod:`swarmscope.watch.waits`
interprets it). ``/proc/<pid>/stat`` is
read with ``os.open``/``os.read`` (a third of the cost of ``open()``): the watcher reads it about
2000 times a second. Where ``/proc`` is missing (not Linux) the process table comes from
``psutil.process_iter`` with its create times converted to ticks.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
from typing import NamedTuple

from swarmscope.conventions import ProcessState

_PROC = "/proc"
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_LINUX = sys.platform.startswith("linux") and os.path.isdir("/proc/self")

# Kernel state letters (proc(5)) folded into the semantic-convention ``process.state`` values.
_STATES: dict[str, str] = {
    "R": ProcessState.RUNNING,
    "S": ProcessState.SLEEPING,
    "D": ProcessState.SLEEPING,  # uninterruptible (disk) sleep
    "I": ProcessState.SLEEPING,  # idle kernel thread
    "T": ProcessState.STOPPED,
    "t": ProcessState.STOPPED,  # tracing stop
    "Z": ProcessState.DEFUNCT,
    "X": ProcessState.DEFUNCT,
}


class ProcStat(NamedTuple):
    """The fields of ``/proc/<pid>/stat`` swarmscope needs (a tuple: built thousands of times
    a second)."""

    pid: int
    ppid: int
    state: str  # kernel letter: R S D Z T t X I ...
    start_ticks: int  # clock ticks after boot
    comm: str
    exit_status: int | None = None  # waitpid() status; meaningful only while a zombie

    @property
    def key(self) -> tuple[int, int]:
        """The process identity: ``(pid, start_ticks)``."""
        return (self.pid, self.start_ticks)

    @property
    def is_zombie(self) -> bool:
        return self.state in ("Z", "X")

    @property
    def process_state(self) -> str:
        """The ``process.state`` value (running / sleeping / stopped / defunct)."""
        return _STATES.get(self.state, ProcessState.SLEEPING)

    @property
    def create_time(self) -> float:
        """Creation time as seconds since the epoch."""
        return ticks_to_time(self.start_ticks)


def ticks_to_time(start_ticks: int) -> float:
    """Epoch seconds of a start time in clock ticks after boot."""
    return boot_time() + start_ticks / CLK_TCK


def read_stat(pid: int) -> ProcStat | None:
    """``/proc/<pid>/stat`` parsed, or None when the process is gone or unreadable."""
    try:
        fd = os.open(f"{_PROC}/{pid}/stat", os.O_RDONLY)
        try:
            raw = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    return parse_stat(pid, raw)


def parse_stat(pid: int, raw: bytes) -> ProcStat | None:
    # comm may contain spaces and parentheses: it ends at the last ')'
    open_paren = raw.find(b"(")
    close_paren = raw.rfind(b")")
    if open_paren < 0 or close_paren < 0:
        return None
    rest = raw[close_paren + 2 :].split(b" ", 20)  # fields 3..22 are all we usually need
    try:
        state = rest[0].decode()
        ppid = int(rest[1])
        start_ticks = int(rest[19])
        exit_status = None
        if state in ("Z", "X"):
            # field 52 (exit_code, Linux >= 3.5) is the waitpid() status; kept only for zombies
            fields = raw[close_paren + 2 :].split()
            exit_status = int(fields[49]) if len(fields) > 49 else None
    except (IndexError, ValueError):
        return None
    comm = raw[open_paren + 1 : close_paren].decode(errors="replace")
    return ProcStat(pid, ppid, state, start_ticks, comm, exit_status)


_BOOT_TIME: float | None = None


def boot_time() -> float:
    """System boot time (seconds since the epoch), from ``/proc/stat``."""
    global _BOOT_TIME
    if _BOOT_TIME is None:
        try:
            with open(f"{_PROC}/stat") as f:
                for line in f:
                    if line.startswith("btime"):
                        _BOOT_TIME = float(line.split()[1])
                        break
        except OSError:
            pass
        if _BOOT_TIME is None:
            import psutil

            _BOOT_TIME = psutil.boot_time()
    return _BOOT_TIME


def list_pids() -> list[int]:
    """Every process id currently in ``/proc``."""
    return [int(name) for name in os.listdir(_PROC) if name.isdigit()]


def _read_bytes(path: str, limit: int = -1) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return None


def read_cmdline(pid: int) -> list[str]:
    """The argument vector of ``pid`` (empty for kernel threads, zombies and gone processes)."""
    raw = _read_bytes(f"{_PROC}/{pid}/cmdline") or b""
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def read_comm(pid: int) -> str | None:
    """The command name of ``pid`` (what ``ps`` shows, at most 15 characters)."""
    raw = _read_bytes(f"{_PROC}/{pid}/comm")
    return None if raw is None else raw.rstrip(b"\n").decode(errors="replace")


def read_exe(pid: int) -> str | None:
    """The executable path of ``pid``, when readable."""
    try:
        return os.readlink(f"{_PROC}/{pid}/exe")
    except OSError:
        return None


def read_uid(pid: int) -> int | None:
    """The real user id of ``pid``."""
    try:
        return os.stat(f"{_PROC}/{pid}").st_uid
    except OSError:
        return None


def read_environ(pid: int) -> dict[str, str] | None:
    """The initial environment of ``pid`` (needs the same user), or None when unreadable."""
    raw = _read_bytes(f"{_PROC}/{pid}/environ")
    if raw is None:
        return None
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def environ_has(pid: int, key: str, value: str) -> bool:
    """True when ``KEY=value`` is in the initial environment of ``pid`` (needs same user).

    A byte search, cheaper than :func:`read_environ` for the one question scans ask."""
    raw = _read_bytes(f"{_PROC}/{pid}/environ")
    if raw is None:
        return False
    needle = f"{key}={value}".encode()
    return raw.startswith(needle + b"\0") or (b"\0" + needle + b"\0") in raw or raw == needle


def decode_wait_status(status: int) -> tuple[int | None, int | None]:
    """``(exit_code, signal)`` from a waitpid() status; exit_code is ``-signal`` when killed,
    as in ``subprocess.Popen.returncode``."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return -sig, sig
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    return None, None


def signal_name(sig: int) -> str:
    """``SIGKILL`` for 9; the number itself for signals Python does not name."""
    try:
        return _signal.Signals(sig).name
    except ValueError:
        return str(sig)


# --- the whole process table -------------------------------------------------------------------


class ProcessTable:
    """Every process on the system, refreshed in place.

    A process's parent only changes when it is reparented and a new descendant is always a new
    pid, so finding descendants needs the stat of *new* pids only (``full=False``); per-state
    counts need every stat afresh (``full=True``).
    """

    def __init__(self) -> None:
        self.entries: dict[int, ProcStat] = {}

    def refresh(self, full: bool = True) -> dict[int, ProcStat]:
        """Every process now, pid -> :class:`ProcStat`. Without ``full``, pids seen before keep
        the stat of their first sight."""
        if not _LINUX:
            self.entries = _scan_psutil()
            return self.entries
        old, new = self.entries, {}
        for name in os.listdir(_PROC):
            if not name.isdigit():
                continue
            pid = int(name)
            entry = None if full else old.get(pid)
            if entry is None:
                entry = read_stat(pid)
                if entry is None:  # exited since listdir
                    continue
            new[pid] = entry
        self.entries = new
        return new


def scan() -> dict[int, ProcStat]:
    """Every process on the system right now."""
    return ProcessTable().refresh(full=True)


def _scan_psutil() -> dict[int, ProcStat]:
    import psutil

    letters = {
        psutil.STATUS_RUNNING: "R",
        psutil.STATUS_STOPPED: "T",
        psutil.STATUS_TRACING_STOP: "t",
        psutil.STATUS_ZOMBIE: "Z",
        psutil.STATUS_DEAD: "X",
    }
    boot = boot_time()
    table: dict[int, ProcStat] = {}
    for proc in psutil.process_iter(["ppid", "status", "create_time", "name"]):
        info = proc.info
        if info["ppid"] is None or info["create_time"] is None:
            continue
        ticks = round((info["create_time"] - boot) * CLK_TCK)
        state = letters.get(info["status"], "S")
        table[proc.pid] = ProcStat(proc.pid, info["ppid"], state, ticks, info["name"] or "")
    return table


def children_map(table: dict[int, ProcStat]) -> dict[int, list[int]]:
    """ppid -> direct children, built from one scan."""
    children: dict[int, list[int]] = {}
    for pid, entry in table.items():
        children.setdefault(entry.ppid, []).append(pid)
    return children


def descendants(pid: int, table: dict[int, ProcStat] | None = None) -> list[ProcStat]:
    """Every live descendant of ``pid`` (children first), from one scan."""
    table = scan() if table is None else table
    children = children_map(table)
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            found.append(table[child])
            frontier.append(child)
    return found


def state_counts(table: dict[int, ProcStat]) -> dict[str, int]:
    """Number of processes per ``process.state`` value (every state present, zeros included)."""
    counts = dict.fromkeys((str(s) for s in ProcessState), 0)
    for entry in table.values():
        counts[_STATES.get(entry.state, ProcessState.SLEEPING)] += 1
    return counts


# --- what a sleeping process waits on ----------------------------------------------------------
# Who may read what (proc(5)): wchan and schedstat anyone; fd/, fdinfo/ the same user (or root);
# syscall and io the same user *with ptrace access* (root, or an ancestor under Yama
# ptrace_scope 1). Every reader returns None (or empty) when it may not look.

ACCESS_READ, ACCESS_WRITE, ACCESS_BOTH = 0, 1, 2


class Syscall(NamedTuple):
    """A thread's system call (``/proc/PID/task/TID/syscall``): ``number`` -1 when it is
    running or asleep outside one; ``args`` the six raw register values."""

    number: int
    args: tuple[int, ...]


def _read_text(path: str) -> str | None:
    raw = _read_bytes(path, 65536)
    return None if raw is None else raw.decode(errors="replace")


def _numbered(path: str) -> list[int]:
    """The numeric entries of a /proc directory (``fd``, ``task``); empty when unreadable."""
    try:
        return [int(name) for name in os.listdir(path) if name.isdigit()]
    except OSError:
        return []


def _value(text: str | None, key: str) -> str | None:
    """What follows ``key`` on its line of a ``key: value`` file."""
    for line in (text or "").splitlines():
        if line.startswith(key):
            return line[len(key) :].strip()
    return None


def read_wchan(pid: int) -> str | None:
    """The kernel function ``pid`` sleeps in, or None (``0``: not known, no kernel symbols)."""
    text = (_read_text(f"{_PROC}/{pid}/wchan") or "").strip()
    return text if text not in ("", "0") else None


def read_syscall(pid: int, tid: int | None = None) -> Syscall | None:
    """The system call thread ``tid`` (default: the main thread) is in; None if unreadable."""
    fields = (_read_text(f"{_PROC}/{pid}/task/{tid or pid}/syscall") or "").split()
    if not fields:
        return None
    if fields[0] in ("running", "-1"):
        return Syscall(-1, ())
    try:
        return Syscall(int(fields[0]), tuple(int(arg, 16) for arg in fields[1:7]))
    except ValueError:
        return None


def thread_ids(pid: int) -> list[int]:
    """The thread ids of ``pid`` (empty when it is gone)."""
    return _numbered(f"{_PROC}/{pid}/task")


def read_cpu_ns(pid: int) -> int | None:
    """CPU time all threads of ``pid`` have used, in ns: the sum of their schedstat (exact,
    where ``stat`` counts ticks), so a thread computing while the main thread waits counts."""
    times = [_read_text(f"{_PROC}/{pid}/task/{tid}/schedstat") for tid in thread_ids(pid)]
    times = [int(text.split()[0]) for text in times if text and text.split()]
    return sum(times) if times else None


def read_bytes_read(pid: int) -> int | None:
    """``rchar`` of ``/proc/PID/io``: bytes read so far, by every thread."""
    value = _value(_read_text(f"{_PROC}/{pid}/io"), "rchar:")
    return int(value) if value else None


def fds_of(pid: int) -> list[int]:
    """The open fds of ``pid`` (empty when unreadable)."""
    return _numbered(f"{_PROC}/{pid}/fd")


def fd_target(pid: int, fd: int) -> str | None:
    """What fd ``fd`` of ``pid`` is: ``pipe:[123]``, ``socket:[456]``,
    ``anon_inode:[eventfd]``, a path."""
    try:
        return os.readlink(f"{_PROC}/{pid}/fd/{fd}")
    except OSError:
        return None


def fd_info(pid: int, fd: int) -> str | None:
    """``/proc/PID/fdinfo/FD``: flags, and what the kind of file adds (epoll entries, timers)."""
    return _read_text(f"{_PROC}/{pid}/fdinfo/{fd}")


def fd_access(pid: int, fd: int) -> int | None:
    """The access mode of fd ``fd`` of ``pid`` (:data:`ACCESS_READ` / WRITE / BOTH)."""
    value = _value(fd_info(pid, fd), "flags:")
    return int(value, 8) & 0o3 if value else None


def epoll_interest(pid: int, epfd: int) -> list[tuple[int, int]] | None:
    """The interest set of epoll fd ``epfd`` of ``pid``: ``(fd, event mask)`` per
    ``tfd: N events: HEX ...`` line of its fdinfo; None when unreadable."""
    text = fd_info(pid, epfd)
    if text is None:
        return None
    lines = (line.split() for line in text.splitlines() if line.startswith("tfd:"))
    return [(int(f[1]), int(f[3], 16)) for f in lines if len(f) >= 4 and f[2] == "events:"]


def timerfd_armed(pid: int, fd: int) -> bool | None:
    """Whether timerfd ``fd`` of ``pid`` will fire (``it_value`` not zero); None if unknown."""
    value = _value(fd_info(pid, fd), "it_value:")
    return None if value is None else value.replace(" ", "") != "(0,0)"


def holders_of(
    target: str, *, skip: int | None = None, write: bool = False
) -> list[tuple[int, int]]:
    """``(pid, fd)`` of every visible process holding ``target`` (``pipe:[N]``,
    ``socket:[N]``) open (for writing, with ``write``), ``skip`` excluded. Other users'
    processes are invisible without root. Scans every process: call it rarely."""
    found = []
    wanted = (ACCESS_WRITE, ACCESS_BOTH) if write else (ACCESS_READ, ACCESS_WRITE, ACCESS_BOTH)
    for pid in list_pids():
        for fd in [] if pid == skip else fds_of(pid):
            if fd_target(pid, fd) == target and fd_access(pid, fd) in wanted:
                found.append((pid, fd))
                break  # one fd per process is enough to name it
    return found


# --- limits ------------------------------------------------------------------------------------


def read_nofile_limit(pid: int) -> int | None:
    """The soft ``RLIMIT_NOFILE`` of ``pid`` (``Max open files`` in ``/proc/PID/limits``): the
    most file descriptors it may hold open. None when unlimited, unreadable or gone."""
    try:
        with open(f"{_PROC}/{pid}/limits", "rb") as f:
            text = f.read(8192).decode(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Max open files"):
            soft = line[len("Max open files") :].split()[:1]
            return int(soft[0]) if soft and soft[0].isdigit() else None
    return None
