"""Following a process tree through ``/proc``: cheap enough to poll every 50 ms.

A process is identified by ``(pid, start_ticks)`` so a reused pid is never mistaken for the
process that had it before. Membership of the tree is decided once, when a process is first
seen: its parent is already a member, or its environment carries our session marker
(``SWARMSCOPE_SESSION_ID``), which catches descendants that escaped through a double fork and
were reparented to init before any scan saw their parent.

Only ``/proc/<pid>/stat`` of *new* pids and of *members* is read on each scan; environments are
read once per new process of the same user. Linux only (``/proc``); psutil is not used on the
hot path because it re-reads several files per process.
"""

from __future__ import annotations

import os
import signal as _signal
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from swarmscope import conventions as c
from swarmscope.conventions import ENV_SESSION_ID

_PROC = "/proc"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the tracker needs."""

    pid: int
    ppid: int
    state: str  # R S D Z T t X I ...
    start_ticks: int  # clock ticks after boot
    comm: str
    exit_status: int | None = None  # waitpid() status; meaningful only while a zombie

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start_ticks)

    @property
    def is_zombie(self) -> bool:
        return self.state in ("Z", "X")

    @property
    def create_time(self) -> float:
        """Creation time as seconds since the epoch."""
        return boot_time() + self.start_ticks / _CLK_TCK


def read_stat(pid: int) -> ProcStat | None:
    """``/proc/<pid>/stat`` parsed, or None when the process is gone or unreadable."""
    try:  # os.open/os.read: a third of the cost of open(); this runs ~2000 times a second
        fd = os.open(f"{_PROC}/{pid}/stat", os.O_RDONLY)
        try:
            raw = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    # comm may contain spaces and parentheses: it ends at the last ')'
    open_paren = raw.find(b"(")
    close_paren = raw.rfind(b")")
    if open_paren < 0 or close_paren < 0:
        return None
    comm = raw[open_paren + 1 : close_paren].decode(errors="replace")
    rest = raw[close_paren + 2 :].split()
    try:
        state = rest[0].decode()
        ppid = int(rest[1])
        start_ticks = int(rest[19])
        # field 52 (exit_code, Linux >= 3.5) is the waitpid() status; kept only for zombies
        exit_status = int(rest[49]) if state in ("Z", "X") and len(rest) > 49 else None
    except (IndexError, ValueError):
        return None
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


def read_cmdline(pid: int) -> list[str]:
    """The argument vector of ``pid`` (empty for kernel threads, zombies and gone processes)."""
    try:
        with open(f"{_PROC}/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _read_comm(pid: int) -> str | None:
    try:
        with open(f"{_PROC}/{pid}/comm", "rb") as f:
            return f.read().rstrip(b"\n").decode(errors="replace")
    except OSError:
        return None


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


def environ_has(pid: int, key: str, value: str) -> bool:
    """True when ``KEY=value`` is in the initial environment of ``pid`` (needs same user)."""
    try:
        with open(f"{_PROC}/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return False
    needle = f"{key}={value}".encode()
    return raw.startswith(needle + b"\0") or (b"\0" + needle + b"\0") in raw or raw == needle


def find_marked(session_id: str, exclude: Iterable[int] = ()) -> list[ProcStat]:
    """Processes of this user whose environment carries ``SWARMSCOPE_SESSION_ID=session_id``."""
    skip = {os.getpid(), *exclude}
    uid = os.getuid()
    found = []
    for pid in list_pids():
        if pid in skip or read_uid(pid) != uid:
            continue
        if environ_has(pid, ENV_SESSION_ID, session_id):
            stat = read_stat(pid)
            if stat is not None:
                found.append(stat)
    return found


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
    try:
        return _signal.Signals(sig).name
    except ValueError:
        return str(sig)


@dataclass
class Member:
    """A process that belongs to the watched tree."""

    stat: ProcStat
    parent_key: tuple[int, int] | None  # the member it descends from, when known
    escaped: bool = False  # found by its session marker, not through its parent
    exited: bool = False  # seen as a zombie or gone, or reported by an exit event
    zombie: bool = False  # currently a zombie (exited, not reaped)
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
                        member.stat = replace(member.stat, comm=event[4])
            elif kind == "comm":
                member = self.member_by_pid(pid)
                if member is not None:
                    member.stat = replace(member.stat, comm=event[2])
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
            stat = ProcStat(pid, ppid, "X", ts_ns * _CLK_TCK // 1_000_000_000, parent.comm)
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
    def open(cls) -> ProcConnector | None:
        """Subscribe, or None where the connector is unavailable or not permitted."""
        import socket
        import struct

        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_CONNECTOR)
        except (OSError, AttributeError):
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
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
                comm = _read_comm(b)  # first: the cheapest, for processes about to vanish
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


# --- lifecycle spans for processes observed from outside ----------------------------------------
# The watcher and the auto-instrumentation see processes that were not started through
# swarmscope.spawn_agent(): they emit the same create_agent / terminate_agent spans themselves, with
# the process's real creation time and its parent's span as parent.


@dataclass
class ProcessAgent:
    """One process recorded as an agent."""

    agent_id: str
    name: str
    pid: int
    parent_pid: int | None
    span_context: object  # opentelemetry.trace.SpanContext of the create_agent span
    terminated: bool = False


def new_agent_id(name: str) -> str:
    """An agent id in the form spawn_agent() uses: ``<name>-<8 hex>``."""
    import uuid

    return f"{name}-{uuid.uuid4().hex[:8]}"


def termination_reason(exit_code: int | None, sig: int | None) -> str | None:
    """graceful / crashed / signal from what was observed; None when the status is unknown."""

    if sig:
        return c.TerminationReason.SIGNAL.value
    if exit_code is None:
        return None
    return (
        c.TerminationReason.GRACEFUL.value if exit_code == 0 else c.TerminationReason.CRASHED.value
    )


def process_attributes(
    pid: int | None,
    *,
    parent_pid: int | None = None,
    argv: list[str] | None = None,
    executable: str | None = None,
    record_command_line: bool = False,
    create_time: float | None = None,
) -> dict[str, object]:
    """process.* span attributes; the command line only when enabled, and redacted."""
    from swarmscope.redact import redact_command_line

    attrs: dict[str, object] = {}
    if pid is not None:
        attrs[c.PROCESS_PID] = pid
    if parent_pid is not None:
        attrs[c.PROCESS_PARENT_PID] = parent_pid
    if executable:
        attrs[c.PROCESS_EXECUTABLE_PATH] = executable
        attrs[c.PROCESS_EXECUTABLE_NAME] = os.path.basename(executable)
    elif argv:
        attrs[c.PROCESS_EXECUTABLE_NAME] = os.path.basename(argv[0])
    if record_command_line and argv:
        attrs[c.PROCESS_COMMAND_LINE] = redact_command_line(argv)
    if create_time is not None:
        attrs[c.PROCESS_CREATION_TIME] = _iso(create_time)
    return attrs


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat()


def start_create_span(
    tracer, name: str, agent_id: str, *, parent=None, context=None, start_time_ns=None
):
    """Open a ``create_agent {name}`` span (its context goes into the child's TRACEPARENT).

    ``parent`` (a SpanContext: the parent process's create_agent span) wins over ``context``
    (an OpenTelemetry Context, e.g. the session's root span)."""

    ctx = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else context
    return tracer.start_span(
        c.span_name(c.Operation.CREATE_AGENT, name),
        context=ctx,
        kind=trace.SpanKind.INTERNAL,
        start_time=start_time_ns,
        attributes={
            c.GEN_AI_OPERATION_NAME: c.Operation.CREATE_AGENT.value,
            c.GEN_AI_AGENT_ID: agent_id,
            c.GEN_AI_AGENT_NAME: name,
            c.AGENT_KIND: c.AgentKind.PROCESS.value,
        },
    )


def emit_terminate(
    tracer,
    agent: ProcessAgent,
    exit_code: int | None,
    sig: int | None,
    reason: str | None = None,
) -> None:
    """A ``terminate_agent {name}`` span, child of the agent's create_agent span."""

    if agent.terminated:
        return
    agent.terminated = True
    attrs: dict[str, object] = {
        c.GEN_AI_OPERATION_NAME: c.Operation.TERMINATE_AGENT.value,
        c.GEN_AI_AGENT_ID: agent.agent_id,
        c.GEN_AI_AGENT_NAME: agent.name,
        c.AGENT_KIND: c.AgentKind.PROCESS.value,
        c.PROCESS_PID: agent.pid,
    }
    if exit_code is not None:
        attrs[c.PROCESS_EXIT_CODE] = exit_code
    if sig:
        attrs[c.EXIT_SIGNAL] = sig
    reason = reason or termination_reason(exit_code, sig)
    if reason:
        attrs[c.TERMINATION_REASON] = reason
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(agent.span_context))
    span = tracer.start_span(
        c.span_name(c.Operation.TERMINATE_AGENT, agent.name), context=ctx, attributes=attrs
    )
    if reason in (c.TerminationReason.CRASHED, c.TerminationReason.SIGNAL):
        span.set_attribute(c.ERROR_TYPE, signal_name(sig) if sig else f"exit {exit_code}")
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def leftover_from_stat(
    stat: ProcStat, *, agent_id: str | None = None, record_command_line: bool = False
):
    """Describe a left-over process as a :class:`swarmscope.cleanup.Leftover` (command line
    only when enabled, and redacted)."""
    import time

    from swarmscope.cleanup import Leftover
    from swarmscope.redact import redact_command_line

    argv = [] if stat.is_zombie else read_cmdline(stat.pid)
    return Leftover(
        pid=stat.pid,
        parent_pid=stat.ppid,
        zombie=stat.is_zombie,
        executable_name=os.path.basename(argv[0]) if argv else stat.comm,
        command_line=redact_command_line(argv) if record_command_line and argv else None,
        agent_id=agent_id,
        age_s=max(0.0, time.time() - stat.create_time),
    )


def emit_cleanup_audit(tracer, leftovers, *, context=None, session_id: str | None = None) -> None:
    """The ``audit_cleanup`` span with one orphan/zombie event per left-over process, shaped
    like the one :func:`swarmscope.cleanup.audit` emits at shutdown."""
    attrs = {c.SESSION_ID: session_id} if session_id else {}
    span = tracer.start_span(
        c.SPAN_CLEANUP_AUDIT, context=context, kind=trace.SpanKind.INTERNAL, attributes=attrs
    )
    for item in leftovers:
        span.add_event(c.EVENT_ZOMBIE if item.zombie else c.EVENT_ORPHAN, item.event_attributes())
    if leftovers:
        span.set_status(Status(StatusCode.ERROR, f"{len(leftovers)} left over"))
    span.end()


def format_leftovers(leftovers) -> str:
    """A plain-text table of left-over processes, for stderr."""
    rows = [("PID", "PPID", "STATE", "AGE", "COMMAND")]
    for item in leftovers:
        rows.append(
            (
                str(item.pid),
                str(item.parent_pid),
                "zombie" if item.zombie else "orphan",
                f"{item.age_s:.1f}s",
                item.command_line or item.executable_name,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows)
