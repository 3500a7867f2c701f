"""Watching any program: the lifecycle and resources of its whole process tree.

:class:`Watcher` follows one tree; :mod:`swarmscope.watch.runner` ties it to a session
(``swarmscope run -- CMD`` / ``swarmscope attach PID``) and returns its :class:`WatchReport`.

The watcher follows a program's whole process tree by polling ``/proc`` (50 ms by default,
well under the metric interval): a ``create_agent`` span when a descendant appears, a
``terminate_agent`` span when it goes, with the exit status where it can be observed — the
program's own status from ``wait()``, a descendant's from ``/proc/<pid>/stat`` while it is a
zombie — and per-process metrics from the resource monitor. Processes it starts carry the
session id in their environment, so descendants that escape through a double fork are still
found. At the end, processes still alive (orphans) and exited-but-unreaped (zombies) are
printed on stderr and recorded as an ``audit_cleanup`` span (:mod:`.audit`), together with the
hung workers found while watching (:mod:`.hung`). Each process is named by :mod:`.naming` and
marked an agent or a helper by :mod:`.roles`. See docs/watcher.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from swarmscope import procfs
from swarmscope import settings as config
from swarmscope.conventions import AgentRole
from swarmscope.record import spans
from swarmscope.watch import node
from swarmscope.watch.alerts import WatchRules
from swarmscope.watch.audit import left_behind
from swarmscope.watch.hung import HungDetector, HungWorker
from swarmscope.watch.leftovers import Leftover
from swarmscope.watch.naming import agent_name
from swarmscope.watch.roles import helper_names, role_of
from swarmscope.watch.signals import forward_signals
from swarmscope.watch.tree import Member, ProcConnector, ScanResult, TreeTracker

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext
    from swarmscope.settings import Settings

DEFAULT_POLL_INTERVAL_S = 0.05
DEFAULT_SETTLE_S = 0.3
EXEC_GRACE_S = 0.005
# A forked child that still shows its parent's command line, or none (read while the kernel
# swaps its program in), is usually about to exec (Python's fork-exec takes milliseconds): it
# is named once it has, or after this long. On a loaded machine a fork-exec took over 0.25 s
# and a child was named after its parent; a child that does exec is named at its next scan
# after the exec all the same, so the wait only delays children that never exec.
NAME_WAIT_S = 1.0
# Programs that exec what they run within milliseconds, such as the "#!/usr/bin/env node" of a
# Node CLI like claude: the process is named after what it becomes (or after NAME_WAIT_S).
EXEC_WRAPPERS = frozenset({"env", "nice", "nohup", "stdbuf", "ionice", "taskset", "chrt"})
STAT_EVERY = 4


@dataclass
class ProcessAgent:
    """One process of the tree recorded as an agent."""

    agent_id: str
    name: str
    pid: int
    parent_pid: int | None
    span_context: SpanContext  # of its create_agent span: its children's spans hang there
    terminated: bool = False
    role: AgentRole = AgentRole.AGENT


@dataclass
class WatchReport:
    """What one watch saw; returned for tests and benchmarks."""

    exit_code: int | None = None
    signal: int | None = None
    agents: dict[tuple[int, int], ProcessAgent] = field(default_factory=dict)
    exits: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    leftovers: list[Leftover] = field(default_factory=list)
    hung: list[HungWorker] = field(default_factory=list)
    session_id: str | None = None
    reaped: list[Any] = field(default_factory=list)  # reap.Outcome of `run --reap`
    event_overruns: int = 0  # times the kernel dropped process events (its buffer was full)


class Watcher:
    """Follows one process tree and turns what it sees into spans and monitored pids."""

    def __init__(
        self,
        *,
        session_id: str,
        tracer: Any,
        monitor: Any = None,
        parent_context: Any = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        settle: float = DEFAULT_SETTLE_S,
        record_command_lines: bool | None = None,
        agent_pattern: re.Pattern[str] | None = None,
        events: bool | None = None,
        settings: Settings | None = None,
        hung_after: float | None = None,
        zombie_grace: float | None = None,
    ) -> None:
        self.session_id = session_id
        self.tracer = tracer
        self.monitor = monitor
        self.parent_context = parent_context  # the session's root span, where trees hang
        # what an instrumented program shares with us (data dir, exporter, sample interval)
        self.settings = settings
        self.started = time.time()
        self.poll_interval = poll_interval
        self.settle = settle
        if record_command_lines is None:
            record_command_lines = (
                settings.record_command_lines if settings else config.record_command_lines()
            )
        self.record_command_lines = record_command_lines
        self.pattern = agent_pattern if agent_pattern is not None else config.agent_pattern()
        self.tracker = TreeTracker(session_id=session_id)
        self.hung = HungDetector(config.hung_after() if hung_after is None else hung_after)
        self.alerts = WatchRules.create()
        self.zombie_grace = config.zombie_grace() if zombie_grace is None else zombie_grace
        self.helpers = helper_names()
        self._unnamed: list[Member] = []  # forked, not yet exec'd: named later
        self._first_seen: dict[tuple[int, int], float] = {}  # of those, monotonic
        self._argv: dict[tuple[int, int], list[str]] = {}  # of each agent, to spot those
        self.report = WatchReport(session_id=session_id)
        self._child: subprocess.Popen[bytes] | None = None
        self._root_pid: int | None = None
        # the fast path: kernel fork/exec/exit events where permitted (None: try, False: off)
        self.connector = ProcConnector.open() if events is not False else None
        # A member's disappearance is seen on every scan (the /proc listing); its stat file
        # (zombie state and exit status, pid reuse) is re-read every few scans only: a zombie
        # worth reporting stays a zombie, and a reaped one is rarely caught at any rate.
        self.tracker.stat_every = STAT_EVERY
        if self.connector is not None:
            self.tracker.defer_exits = True
        self._last_scan = 0.0
        if events and self.connector is None:
            print(
                "swarmscope: process events unavailable (needs CAP_NET_ADMIN); "
                "following the tree by /proc scans only",
                file=sys.stderr,
            )

    # --- starting -----------------------------------------------------------------------------

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` marked with the session id, under a create_agent span of its own."""
        name = agent_name(argv, os.path.basename(argv[0]))
        agent_id = spans.new_agent_id(name)
        span = spans.start_create_agent(self.tracer, name, agent_id, context=self.parent_context)
        span.set_attributes(spans.role_attributes(AgentRole.AGENT))  # what we were asked to run
        # every Node process of the tree inherits NODE_OPTIONS, also through a shell script
        child_env = node.prepare_env(os.environ if env is None else env)
        # we sample the whole tree: an instrumented child must not sample itself again
        child_env.update(
            spans.child_environment(
                self.settings, session_id=self.session_id, agent_id=agent_id, agent_name=name,
                parent=span.get_span_context(), monitored_by=os.getpid(),
            )
        )  # fmt: skip
        if self.connector is not None:
            # our own pid: the program's fork and everything it forks from its first instant
            self.connector.start([os.getpid()])
        try:
            self._child = subprocess.Popen(argv, env=child_env)
        except OSError as exc:
            span.record_exception(exc)
            span.end()
            raise
        span.set_attributes(spans.process_attributes(
            self._child.pid, parent_pid=os.getpid(), argv=argv,
            executable=procfs.read_exe(self._child.pid),
            record_command_line=self.record_command_lines,
        ))  # fmt: skip
        span.end()
        self._root_pid = self._child.pid
        member = self.tracker.add_root(self._child.pid)
        agent = ProcessAgent(agent_id, name, self._child.pid, os.getpid(), span.get_span_context())
        if member is not None:
            self._argv[member.stat.key] = list(argv)
            self._register(member.stat.key, agent)
        return self._child

    def attach(self, pid: int) -> None:
        """Follow an already running process (not our child: its exit status may be unknown)."""
        stat = procfs.read_stat(pid)
        if stat is None:
            raise ProcessLookupError(f"no process with pid {pid}")
        self._root_pid = pid
        if self.connector is not None:
            self.connector.start([pid])
        self.tracker.add_root(pid)
        self._on_appeared(self.tracker.member_by_pid(pid))

    # --- the loop -------------------------------------------------------------------------------

    def poll(self, scan: bool = True) -> ScanResult:
        """Apply queued process events and (when ``scan``) scan /proc; emit spans for what
        appeared and what ended."""
        result = ScanResult()
        if self.connector is not None:
            self.tracker.apply_events(self.connector.drain(), result)
        if scan:
            self._last_scan = time.monotonic()
            self.tracker.scan(result)
        for member in result.appeared:
            if self.connector is not None and not member.exited:
                self.connector.add(member.stat.pid)  # escapees found by their marker
            self._on_appeared(member)
        self._name_unnamed()
        for member in result.exited:
            self._on_exited(member)
        return result

    def _name_unnamed(self, force: bool = False) -> None:
        """Record the forked children that were waiting to exec (all of them with ``force``)."""
        waiting, self._unnamed = self._unnamed, []
        for member in waiting:
            self._on_appeared(member, force=force)
            if member.exited:
                self._on_exited(member)

    def _before_exec(self, member: Member, argv: list[str]) -> bool:
        """Young, alive, and still running its parent's program or an exec wrapper, or with
        no command line to read yet (read in the middle of its exec): probably about to
        exec."""
        key = member.stat.key
        # young since first sight: a creation time is up to a second early (boot time in
        # /proc/stat is whole seconds), too coarse for a quarter of a second
        seen = self._first_seen.setdefault(key, time.monotonic())
        parent_argv = self._argv.get(member.parent_key) if member.parent_key else None
        wrapper = len(argv) > 1 and os.path.basename(argv[0]) in EXEC_WRAPPERS
        waiting = (parent_argv == argv or wrapper or not argv) and not (
            member.exited or member.stat.is_zombie)
        if waiting and time.monotonic() - seen < NAME_WAIT_S:
            return True
        del self._first_seen[key]
        return False

    def _root_done(self) -> bool:
        if self._child is not None:
            return self._child.poll() is not None
        member = self.tracker.member_by_pid(self._root_pid) if self._root_pid else None
        return member is None or member.exited

    def wait(self) -> WatchReport:
        """Poll until the program ends, settle, then audit what it left behind."""
        while not self._root_done():
            self.poll(scan=time.monotonic() - self._last_scan >= self.poll_interval * 0.9)
            if self.hung.due():
                self._check_hung()
            if self.alerts is not None:
                self.alerts.check(self)  # live alerts: hung, orphans, duplicate daemons
            self._pause()
        self._record_root_exit()
        deadline = time.monotonic() + self.settle
        while True:
            self.poll()
            if time.monotonic() >= deadline or not self.tracker.alive():
                break
            time.sleep(self.poll_interval)
        self._name_unnamed(force=True)
        self._settle_pending()
        # brings the idle time of the hung up to date
        self._check_hung()
        if self.alerts is not None:
            self.alerts.check_hung(self)  # one found only now is alerted too
        self._audit()
        self.close()
        return self.report

    def _check_hung(self) -> None:
        # With live alerts on, the alert is the one line that says a worker hung.
        self.hung.check_tree(self.tracker.members, self.report.agents,
                             say=self.alerts is None)  # fmt: skip

    def _pause(self) -> None:
        """Until the next scan is due, or sooner when a fork/exit event arrives."""
        delay = max(0.0, self._last_scan + self.poll_interval - time.monotonic())
        if self.connector is None:
            time.sleep(delay)
            return
        if self.connector.ready.wait(delay):
            # a fork is usually followed by an exec within a millisecond or two: batch them so
            # the new process is named after what it runs, not after its parent
            time.sleep(EXEC_GRACE_S)
            self.connector.ready.clear()

    def _settle_pending(self) -> None:
        result = self.poll()
        self.tracker.finish(result)
        for member in result.exited:
            self._on_exited(member)

    def close(self) -> None:
        if self.connector is not None:
            self.connector.close()
            self.connector = None

    def _record_root_exit(self) -> None:
        if self._child is None:
            return
        code = self._child.returncode
        sig = -code if code is not None and code < 0 else None
        self.report.exit_code, self.report.signal = code, sig
        self.report.exits[self._child.pid] = (code, sig)
        # the root is our child: wait() gave the exact status before the scan could see it go
        for key, agent in self.report.agents.items():
            if key[0] == self._child.pid:
                self._end_agent(key, agent, code, sig)
                member = self.tracker.members.get(key)
                if member is not None:
                    member.exited = True

    def _on_appeared(self, member: Member | None, force: bool = False) -> None:
        if member is None or member.stat.key in self.report.agents:
            return
        stat = member.stat
        argv = member.argv or procfs.read_cmdline(stat.pid)
        if not force and self._before_exec(member, argv):
            self._unnamed.append(member)
            return
        if self.pattern is not None and not self.pattern.search(" ".join(argv) or stat.comm):
            # not an agent: still followed (its children may be) and counted as a leftover
            return
        name = agent_name(argv, stat.comm)
        role = role_of(name, self.helpers)
        parent = self.report.agents.get(member.parent_key) if member.parent_key else None
        agent_id = spans.new_agent_id(name)
        span = spans.start_create_agent(
            self.tracer, name, agent_id, parent=parent.span_context if parent else None,
            context=self.parent_context, start_time_ns=int(stat.create_time * 1e9),
        )  # fmt: skip
        span.set_attributes(spans.process_attributes(
            stat.pid, parent_pid=stat.ppid, argv=argv,
            executable=member.exe or procfs.read_exe(stat.pid),
            record_command_line=self.record_command_lines, create_time=stat.create_time,
        ))  # fmt: skip
        span.set_attributes(spans.role_attributes(role))
        span.end()
        agent = ProcessAgent(
            agent_id, name, stat.pid, stat.ppid, span.get_span_context(), role=role
        )
        self._argv[stat.key] = argv
        self._register(stat.key, agent)

    def _register(self, key: tuple[int, int], agent: ProcessAgent) -> None:
        self.report.agents[key] = agent
        if self.monitor is not None:
            try:
                self.monitor.watch(
                    agent.pid, agent_id=agent.agent_id, agent_name=agent.name, descendants=False
                )
            except Exception:  # a process gone before the monitor saw it is not an error
                pass

    def _on_exited(self, member: Member) -> None:
        agent = self.report.agents.get(member.stat.key)
        if agent is None or agent.terminated:
            return
        if self._child is not None and member.stat.pid == self._child.pid:
            return  # recorded from wait() by _record_root_exit
        code = sig = None
        if member.status is not None:
            code, sig = procfs.decode_wait_status(member.status)
        self._end_agent(member.stat.key, agent, code, sig)

    def _end_agent(
        self, key: tuple[int, int], agent: ProcessAgent, code: int | None, sig: int | None
    ) -> None:
        if agent.terminated:
            return
        self.report.exits[agent.pid] = (code, sig)
        agent.terminated = True
        # the end was observed now (by wait(), an exit event or a scan), even when its status
        # could not be: then no reason is recorded
        outcome = spans.classify_exit(code, unknown=None, exit_time=time.time())
        spans.emit_terminate_agent(
            self.tracer, agent.name, agent.agent_id, outcome, pid=agent.pid,
            parent=agent.span_context,
        )  # fmt: skip
        if self.monitor is not None:
            try:
                self.monitor.unwatch(agent.pid)
            except Exception:
                pass

    def _audit(self) -> None:
        """Record what the tree left behind and the hung workers in an audit_cleanup span."""
        self.report.leftovers = left_behind(
            self.tracker, self.report.agents, session_id=self.session_id, started=self.started,
            # attach: a root still running after Ctrl-C is not left behind
            running_root=self._root_pid if self._child is None else None,
            record_command_line=self.record_command_lines, zombie_grace=self.zombie_grace,
        )  # fmt: skip
        self.report.hung = sorted(self.hung.found.values(), key=lambda item: item.pid)
        self.report.event_overruns = self.connector.lost if self.connector is not None else 0
        if self.report.event_overruns:
            print(
                f"swarmscope: the kernel dropped process events {self.report.event_overruns} "
                "time(s) (receive buffer full): processes that started and ended between two "
                "scans may be missing from this session",
                file=sys.stderr,
            )
        spans.emit_cleanup_audit(
            self.tracer, self.report.leftovers, context=self.parent_context,
            session_id=self.session_id, hung=self.report.hung,
            event_overruns=self.report.event_overruns,
        )  # fmt: skip

    def forward_signals(self) -> None:
        """Pass SIGINT/SIGTERM/SIGHUP/SIGQUIT on to the program (see :mod:`.signals`)."""
        forward_signals(lambda: self._child)
