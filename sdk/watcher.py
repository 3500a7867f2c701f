"""``swarmscope run -- CMD`` and ``swarmscope attach PID``: lifecycle and resources of any program.

The watcher follows a program's whole process tree by polling ``/proc`` (50 ms by default,
well under the metric interval): a ``create_agent`` span when a descendant appears, a
``terminate_agent`` span when it goes, with the exit status where it can be observed — the
program's own status from ``wait()``, a descendant's from ``/proc/<pid>/stat`` while it is a
zombie — and per-process metrics from the resource monitor. Processes it starts carry the
session id in their environment, so descendants that escape through a double fork are still
found. At the end, processes still alive (orphans) and exited-but-unreaped (zombies) are
printed on stderr and recorded as an ``audit_cleanup`` span. See docs/watcher.md.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer  # the CLI imports it anyway; the command annotations need it at runtime
from swarmscope import conventions as c
from swarmscope import proctree as pt

DEFAULT_POLL_INTERVAL_S = 0.05
DEFAULT_SETTLE_S = 0.3
EXEC_GRACE_S = 0.005
STAT_EVERY = 4
_FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _agent_pattern() -> re.Pattern[str] | None:
    raw = os.environ.get(c.ENV_AGENT_PATTERN)
    if not raw:
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        raise ValueError(
            f"{c.ENV_AGENT_PATTERN}={raw!r} is not a valid regular expression: {exc}"
        ) from None


@dataclass
class WatchReport:
    """What one watch saw; returned for tests and benchmarks."""

    exit_code: int | None = None
    signal: int | None = None
    agents: dict[tuple[int, int], pt.ProcessAgent] = field(default_factory=dict)
    exits: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    leftovers: list[pt.Leftover] = field(default_factory=list)


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
    ) -> None:
        self.session_id = session_id
        self.tracer = tracer
        self.monitor = monitor
        self.parent_context = parent_context  # the session's root span, where trees hang
        # settings an instrumented program should share with us (exporter, sample interval)
        self.child_settings: dict[str, str] = {}
        self.started = time.time()
        self.poll_interval = poll_interval
        self.settle = settle
        self.record_command_lines = (
            _env_flag(c.ENV_RECORD_COMMAND_LINES)
            if record_command_lines is None
            else record_command_lines
        )
        self.pattern = agent_pattern if agent_pattern is not None else _agent_pattern()
        self.tracker = pt.TreeTracker(session_id=session_id)
        self.report = WatchReport()
        self._child: subprocess.Popen[bytes] | None = None
        self._root_pid: int | None = None
        # the fast path: kernel fork/exec/exit events where permitted (None: try, False: off)
        self.connector = pt.ProcConnector.open() if events is not False else None
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
        name = os.path.basename(argv[0])
        agent_id = pt.new_agent_id(name)
        span = pt.start_create_span(self.tracer, name, agent_id, context=self.parent_context)
        child_env = dict(os.environ if env is None else env)
        child_env.update(self._marker_env(span, agent_id, name))
        if self.connector is not None:
            # our own pid: the program's fork and everything it forks from its first instant
            self.connector.start([os.getpid()])
        try:
            self._child = subprocess.Popen(argv, env=child_env)
        except OSError as exc:
            span.record_exception(exc)
            span.end()
            raise
        span.set_attributes(
            pt.process_attributes(
                self._child.pid,
                parent_pid=os.getpid(),
                argv=argv,
                executable=pt.read_exe(self._child.pid),
                record_command_line=self.record_command_lines,
            )
        )
        span.end()
        self._root_pid = self._child.pid
        member = self.tracker.add_root(self._child.pid)
        agent = pt.ProcessAgent(
            agent_id, name, self._child.pid, os.getpid(), span.get_span_context()
        )
        if member is not None:
            self._register(member.stat.key, agent)
        return self._child

    def _marker_env(self, span: Any, agent_id: str, name: str) -> dict[str, str]:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        ctx = trace.set_span_in_context(span)
        TraceContextTextMapPropagator().inject(carrier, context=ctx)
        env = {
            c.ENV_SESSION_ID: self.session_id,
            c.ENV_AGENT_ID: agent_id,
            c.ENV_AGENT_NAME: name,
            # we sample the whole tree: an instrumented child must not sample itself again
            c.ENV_MONITORED_BY: str(os.getpid()),
        }
        if "traceparent" in carrier:
            env[c.ENV_TRACEPARENT] = carrier["traceparent"]
        if carrier.get("tracestate"):
            env[c.ENV_TRACESTATE] = carrier["tracestate"]
        data_dir = os.environ.get(c.ENV_DATA_DIR)
        if data_dir:
            env[c.ENV_DATA_DIR] = data_dir
        env.update(self.child_settings)
        return env

    def attach(self, pid: int) -> None:
        """Follow an already running process (not our child: its exit status may be unknown)."""
        stat = pt.read_stat(pid)
        if stat is None:
            raise ProcessLookupError(f"no process with pid {pid}")
        self._root_pid = pid
        if self.connector is not None:
            self.connector.start([pid])
        self.tracker.add_root(pid)
        self._on_appeared(self.tracker.member_by_pid(pid))

    # --- the loop -------------------------------------------------------------------------------

    def poll(self, scan: bool = True) -> pt.ScanResult:
        """Apply queued process events and (when ``scan``) scan /proc; emit spans for what
        appeared and what ended."""
        result = pt.ScanResult()
        if self.connector is not None:
            self.tracker.apply_events(self.connector.drain(), result)
        if scan:
            self._last_scan = time.monotonic()
            self.tracker.scan(result)
        for member in result.appeared:
            if self.connector is not None and not member.exited:
                self.connector.add(member.stat.pid)  # escapees found by their marker
            self._on_appeared(member)
        for member in result.exited:
            self._on_exited(member)
        return result

    def _root_done(self) -> bool:
        if self._child is not None:
            return self._child.poll() is not None
        member = self.tracker.member_by_pid(self._root_pid) if self._root_pid else None
        return member is None or member.exited

    def wait(self) -> WatchReport:
        """Poll until the program ends, settle, then audit what it left behind."""
        while not self._root_done():
            self.poll(scan=time.monotonic() - self._last_scan >= self.poll_interval * 0.9)
            self._pause()
        self._record_root_exit()
        deadline = time.monotonic() + self.settle
        while True:
            self.poll()
            if time.monotonic() >= deadline or not self.tracker.alive():
                break
            time.sleep(self.poll_interval)
        self._settle_pending()
        self._audit()
        self.close()
        return self.report

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

    def _on_appeared(self, member: pt.Member | None) -> None:
        if member is None or member.stat.key in self.report.agents:
            return
        stat = member.stat
        argv = member.argv or pt.read_cmdline(stat.pid)
        if self.pattern is not None and not self.pattern.search(" ".join(argv) or stat.comm):
            # not an agent: still followed (its children may be) and counted as a leftover
            return
        name = os.path.basename(argv[0]) if argv else stat.comm
        parent = self.report.agents.get(member.parent_key) if member.parent_key else None
        agent_id = pt.new_agent_id(name)
        span = pt.start_create_span(
            self.tracer,
            name,
            agent_id,
            parent=parent.span_context if parent else None,
            context=self.parent_context,
            start_time_ns=int(stat.create_time * 1e9),
        )
        span.set_attributes(
            pt.process_attributes(
                stat.pid,
                parent_pid=stat.ppid,
                argv=argv,
                executable=member.exe or pt.read_exe(stat.pid),
                record_command_line=self.record_command_lines,
                create_time=stat.create_time,
            )
        )
        span.end()
        agent = pt.ProcessAgent(agent_id, name, stat.pid, stat.ppid, span.get_span_context())
        self._register(stat.key, agent)

    def _register(self, key: tuple[int, int], agent: pt.ProcessAgent) -> None:
        self.report.agents[key] = agent
        if self.monitor is not None:
            try:
                self.monitor.watch(
                    agent.pid, agent_id=agent.agent_id, agent_name=agent.name, descendants=False
                )
            except Exception:  # a process gone before the monitor saw it is not an error
                pass

    def _on_exited(self, member: pt.Member) -> None:
        agent = self.report.agents.get(member.stat.key)
        if agent is None or agent.terminated:
            return
        if self._child is not None and member.stat.pid == self._child.pid:
            return  # recorded from wait() by _record_root_exit
        code = sig = None
        if member.status is not None:
            code, sig = pt.decode_wait_status(member.status)
        self._end_agent(member.stat.key, agent, code, sig)

    def _end_agent(
        self, key: tuple[int, int], agent: pt.ProcessAgent, code: int | None, sig: int | None
    ) -> None:
        if agent.terminated:
            return
        self.report.exits[agent.pid] = (code, sig)
        pt.emit_terminate(self.tracer, agent, code, sig)
        if self.monitor is not None:
            try:
                self.monitor.unwatch(agent.pid)
            except Exception:
                pass

    def _audit(self) -> None:
        """Orphans (alive) and zombies (exited, unreaped) among everything the tree ever held,
        plus any other process still carrying our session marker."""
        leftovers = {}
        for key, member in self.tracker.members.items():
            if member.exited and not member.zombie:
                continue
            stat = pt.read_stat(member.stat.pid)
            if stat is None or stat.start_ticks != key[1]:
                continue
            if stat.pid == self._root_pid and not stat.is_zombie and self._child is None:
                continue  # attach: a root still running after Ctrl-C is not left behind
            agent = self.report.agents.get(key)
            leftovers[stat.pid] = pt.leftover_from_stat(
                stat,
                agent_id=agent.agent_id if agent else None,
                record_command_line=self.record_command_lines,
            )
        leftovers.update(self._marked_leftovers(leftovers))
        self.report.leftovers = sorted(leftovers.values(), key=lambda item: item.pid)
        pt.emit_cleanup_audit(
            self.tracer,
            self.report.leftovers,
            context=self.parent_context,
            session_id=self.session_id,
        )

    def _marked_leftovers(self, known: dict[int, Any]) -> dict[int, Any]:
        """A last sweep for session-marked processes no scan caught (started and escaped
        between two scans, then went quiet)."""
        from swarmscope.cleanup import find_leftovers

        found = {}
        for item in find_leftovers(self.session_id, since=self.started, exclude=set(known)):
            if not item.zombie:  # zombies of the watcher itself are the reaped root: not ours
                found[item.pid] = item
        return found

    # --- signals ----------------------------------------------------------------------------

    def forward_signals(self) -> None:
        """Pass SIGINT/SIGTERM/SIGHUP/SIGQUIT on to the program; the watcher keeps going so it
        can record the program's exit and flush."""
        for sig in _FORWARDED_SIGNALS:
            signal.signal(sig, self._forward)

    def _forward(self, signum: int, _frame: Any) -> None:
        if self._child is None or self._child.returncode is not None:
            return
        if signum == signal.SIGINT and _terminal_sent_to_group():
            return  # Ctrl-C at a terminal already reached the program's process group
        try:
            os.kill(self._child.pid, signum)
        except ProcessLookupError:
            pass


def _terminal_sent_to_group() -> bool:
    """True when we are in the terminal's foreground process group, where Ctrl-C is delivered
    to every member (the program included), so forwarding would deliver it twice."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def exit_status_for_shell(code: int | None) -> int:
    """The program's exit code, or 128+N when it was killed by signal N (shell convention)."""
    if code is None:
        return 0
    return 128 - code if code < 0 else code


# --- CLI ----------------------------------------------------------------------------------------


def _init_session(session: str | None, interval: float | None, data_dir: Path | None, name: str):
    import swarmscope

    kwargs: dict[str, Any] = {"service_name": name, "session_id": session}
    if interval is not None:
        kwargs["sample_interval"] = interval
    if data_dir is not None:
        kwargs["data_dir"] = str(data_dir)
        os.environ[c.ENV_DATA_DIR] = str(data_dir)
    swarmscope.init(**kwargs)
    return swarmscope.session()


def _finish(report: WatchReport) -> None:
    import swarmscope

    if report.leftovers:
        print(
            f"swarmscope: {len(report.leftovers)} process(es) left behind:\n"
            + pt.format_leftovers(report.leftovers),
            file=sys.stderr,
        )
    swarmscope.shutdown()


def _watcher_for(
    sess: Any, poll_interval: float, settle: float, events: bool | None, **options: Any
) -> Watcher:
    """A watcher that records into ``sess``: its tracer, its monitor, under its root span."""
    return Watcher(
        session_id=sess.id,
        tracer=sess.tracer,
        monitor=sess.monitor,
        parent_context=sess.parent_context(),
        poll_interval=poll_interval,
        settle=settle,
        events=events,
        **options,
    )


def run_command(
    argv: list[str],
    *,
    session: str | None = None,
    interval: float | None = None,
    data_dir: Path | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL_S,
    settle: float = DEFAULT_SETTLE_S,
    events: bool | None = None,
) -> int:
    """``swarmscope run``: start ``argv``, follow it to the end, return its exit status."""
    try:
        pattern = _agent_pattern()
    except ValueError as exc:
        print(f"swarmscope: {exc}", file=sys.stderr)
        return 2
    sess = _init_session(session, interval, data_dir, os.path.basename(argv[0]))
    watcher = _watcher_for(sess, poll_interval, settle, events, agent_pattern=pattern)
    settings = sess.telemetry.settings
    watcher.child_settings = {
        c.ENV_EXPORTER: settings.exporter,
        c.ENV_SAMPLE_INTERVAL: repr(settings.sample_interval),
        c.ENV_DATA_DIR: str(settings.data_dir),
    }
    watcher.forward_signals()
    try:
        watcher.start(argv)
    except OSError as exc:
        print(f"swarmscope: cannot start {argv[0]!r}: {exc}", file=sys.stderr)
        _finish(watcher.report)
        return 127
    report = watcher.wait()
    _finish(report)
    return exit_status_for_shell(report.exit_code)


def attach_process(
    pid: int,
    *,
    session: str | None = None,
    interval: float | None = None,
    data_dir: Path | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL_S,
    settle: float = DEFAULT_SETTLE_S,
    events: bool | None = None,
) -> int:
    """``swarmscope attach``: follow a running process until it ends."""
    stat = pt.read_stat(pid)
    if stat is None:
        print(f"swarmscope: no process with pid {pid}", file=sys.stderr)
        return 1
    sess = _init_session(session, interval, data_dir, stat.comm)
    watcher = _watcher_for(sess, poll_interval, settle, events)
    # Ctrl-C stops watching; the attached program is not ours to signal
    watcher.attach(pid)
    try:
        report = watcher.wait()
    except KeyboardInterrupt:
        watcher._audit()
        watcher.close()
        report = watcher.report
    _finish(report)
    code = report.exits.get(pid, (None, None))[0]
    return exit_status_for_shell(code)


def register(app: typer.Typer) -> None:
    @app.command(
        "run",
        context_settings={"allow_interspersed_args": False},
    )
    def run(
        command: Annotated[list[str], typer.Argument(help="The program and its arguments.")],
        session: Annotated[
            str | None, typer.Option("--session", help="Session id (default: a new one).")
        ] = None,
        interval: Annotated[
            float | None,
            typer.Option("--interval", help="Metric sample interval in seconds (default 1)."),
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help=f"Where files go (default ${c.ENV_DATA_DIR})."),
        ] = None,
        poll: Annotated[
            float,
            typer.Option("--poll", help="Seconds between process-tree scans."),
        ] = DEFAULT_POLL_INTERVAL_S,
        events: Annotated[
            bool | None,
            typer.Option(
                "--events/--no-events",
                help="Kernel fork/exit events (needs CAP_NET_ADMIN; default: when permitted).",
            ),
        ] = None,
    ) -> None:
        """Run CMD and record its whole process tree (put -- before CMD)."""
        raise typer.Exit(
            run_command(
                list(command),
                session=session,
                interval=interval,
                data_dir=data_dir,
                poll_interval=poll,
                events=events,
            )
        )

    @app.command("attach")
    def attach(
        pid: Annotated[int, typer.Argument(help="Process id to follow.")],
        session: Annotated[str | None, typer.Option("--session")] = None,
        interval: Annotated[float | None, typer.Option("--interval")] = None,
        data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
        poll: Annotated[float, typer.Option("--poll")] = DEFAULT_POLL_INTERVAL_S,
        events: Annotated[bool | None, typer.Option("--events/--no-events")] = None,
    ) -> None:
        """Follow a running process PID and its descendants until it ends."""
        raise typer.Exit(
            attach_process(
                pid,
                session=session,
                interval=interval,
                data_dir=data_dir,
                poll_interval=poll,
                events=events,
            )
        )
