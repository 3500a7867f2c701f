"""Agent lifecycle as spans: a session, spawn (``create_agent``), tasks (``invoke_agent``) and
terminate (``terminate_agent``), for agents that are processes, threads or in-process objects.

Parenting: ``create_agent`` spans hang under the session's root span (or the caller's current
span, or a TRACEPARENT inherited from a parent process); an agent's tasks and its
``terminate_agent`` span hang under its ``create_agent`` span, also across processes, because
a child started with :func:`spawn_agent` receives that span's context in TRACEPARENT.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import signal as signals
import subprocess
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import psutil
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from swarmscope import conventions as c
from swarmscope import telemetry
from swarmscope.settings import OTEL_PASS_THROUGH

if TYPE_CHECKING:
    from swarmscope.telemetry import Telemetry

F = TypeVar("F", bound=Callable[..., Any])

# The innermost task span of this thread/task, so nested tasks nest instead of flattening.
_CURRENT_TASK: contextvars.ContextVar[tuple[Agent, trace.Span] | None] = contextvars.ContextVar(
    "swarmscope_task", default=None
)
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass(frozen=True)
class Termination:
    """How an agent ended: exit code (negative: killed by that signal), reason and signal."""

    exit_code: int | None
    reason: c.TerminationReason
    signal: int | None = None


def classify_exit(
    exit_code: int | None, *, sent_signal: int | None = None, killed_after_timeout: bool = False
) -> Termination:
    """Map a return code to a termination reason.

    A process that dies of the SIGTERM we sent stopped when asked: graceful. Death by any other
    signal we did not send is ``signal``; a non-zero exit is ``crashed``.
    """
    if killed_after_timeout:
        return Termination(exit_code, c.TerminationReason.TIMEOUT_KILLED, int(signals.SIGKILL))
    if exit_code is None or exit_code == 0:
        return Termination(exit_code, c.TerminationReason.GRACEFUL)
    if exit_code < 0:
        if -exit_code == sent_signal:
            return Termination(exit_code, c.TerminationReason.GRACEFUL, -exit_code)
        return Termination(exit_code, c.TerminationReason.SIGNAL, -exit_code)
    return Termination(exit_code, c.TerminationReason.CRASHED)


class _TaskSpan:
    """Context manager (and the engine of the decorator) for one ``invoke_agent`` span.

    A small class instead of ``contextlib.contextmanager``: this is the hot path of the SDK.
    """

    __slots__ = ("_agent", "_attributes", "_name", "_span", "_token", "_task_token")

    def __init__(self, agent: Agent, name: str | None, task_id: str | None) -> None:
        self._agent = agent
        self._name = name
        attributes = dict(agent._task_attributes)
        if name is not None:
            attributes[c.TASK_NAME] = name
        if task_id is not None:
            attributes[c.TASK_ID] = task_id
        self._attributes = attributes

    def __enter__(self) -> trace.Span:
        agent = self._agent
        current = _CURRENT_TASK.get()
        parent = (
            trace.set_span_in_context(current[1])
            if current is not None and current[0] is agent
            else agent._parent_ctx
        )
        span = agent._tracer.start_span(
            agent._task_span_name, context=parent, kind=SpanKind.INTERNAL,
            attributes=self._attributes,
        )
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._task_token = _CURRENT_TASK.set((agent, span))
        return span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        span = self._span
        if exc is not None:
            span.set_attribute(c.ERROR_TYPE, exc_type.__qualname__)
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{exc_type.__qualname__}: {exc}"))
        span.end()
        _CURRENT_TASK.reset(self._task_token)
        otel_context.detach(self._token)


class Agent:
    """One agent of the session: a process (started or registered), a thread or an object."""

    def __init__(
        self,
        session: Session,
        name: str,
        agent_id: str,
        kind: str,
        pid: int | None = None,
        popen: subprocess.Popen[Any] | None = None,
        span_context: SpanContext | None = None,
    ) -> None:
        self.session = session
        self.name = name
        self.id = agent_id
        self.kind = c.AgentKind(kind)
        self.pid = pid
        self.popen = popen
        self.span_context = span_context
        self.termination: Termination | None = None
        self._lock = threading.Lock()
        self._tracer = session.tracer
        self._task_span_name = c.span_name(c.Operation.INVOKE_AGENT, name)
        self._task_attributes = {
            c.GEN_AI_OPERATION_NAME: str(c.Operation.INVOKE_AGENT),
            c.GEN_AI_AGENT_ID: agent_id,
            c.GEN_AI_AGENT_NAME: name,
        }
        self._parent_ctx = (
            trace.set_span_in_context(NonRecordingSpan(span_context))
            if span_context is not None and span_context.is_valid
            else session.parent_context()
        )

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, id={self.id!r}, kind={self.kind}, pid={self.pid})"

    # -- tasks --
    def task(self, name: str | None = None, task_id: str | None = None) -> _TaskSpan:
        """An ``invoke_agent`` span around a unit of work; exceptions mark it failed."""
        return _TaskSpan(self, name, task_id)

    # -- termination --
    def terminate(self, timeout: float = 5.0, reason: str | None = None) -> Termination:
        """Stop the agent (SIGTERM, then SIGKILL after ``timeout`` s) and record how it ended."""
        with self._lock:
            if self.termination is not None:
                return self.termination
            span = self._start_terminate_span()
            try:
                outcome = self._stop_process(timeout)
            except BaseException as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, repr(error)))
                span.end()
                raise
            return self._finish(span, outcome, reason)

    def record_exit(
        self, exit_code: int | None = None, signal: int | None = None, reason: str | None = None
    ) -> Termination:
        """The agent ended on its own (or was reaped elsewhere): record the terminate span only."""
        with self._lock:
            if self.termination is not None:
                return self.termination
            if exit_code is None and self.popen is not None:
                exit_code = self.popen.poll()
            if exit_code is None and signal is not None:
                exit_code = -signal
            span = self._start_terminate_span()
            return self._finish(span, classify_exit(exit_code), reason)

    def _start_terminate_span(self) -> trace.Span:
        attributes: dict[str, Any] = {
            c.GEN_AI_OPERATION_NAME: str(c.Operation.TERMINATE_AGENT),
            c.GEN_AI_AGENT_ID: self.id,
            c.GEN_AI_AGENT_NAME: self.name,
            c.AGENT_KIND: str(self.kind),
        }
        if self.pid is not None:
            attributes[c.PROCESS_PID] = self.pid
        return self._tracer.start_span(
            c.span_name(c.Operation.TERMINATE_AGENT, self.name),
            context=self._parent_ctx,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )

    def _stop_process(self, timeout: float) -> Termination:
        if self.popen is not None:
            return _stop_popen(self.popen, timeout)
        if self.pid is not None and self.kind is c.AgentKind.PROCESS:
            return _stop_pid(self.pid, timeout)
        return Termination(None, c.TerminationReason.GRACEFUL)

    def _finish(self, span: trace.Span, outcome: Termination, reason: str | None) -> Termination:
        if reason is not None:
            outcome = Termination(outcome.exit_code, c.TerminationReason(reason), outcome.signal)
        span.set_attribute(c.TERMINATION_REASON, str(outcome.reason))
        if outcome.exit_code is not None:
            span.set_attribute(c.PROCESS_EXIT_CODE, outcome.exit_code)
        if outcome.signal is not None:
            span.set_attribute(c.EXIT_SIGNAL, int(outcome.signal))
        if outcome.reason in (c.TerminationReason.CRASHED, c.TerminationReason.SIGNAL):
            span.set_status(Status(StatusCode.ERROR, f"agent {outcome.reason}"))
        span.end()
        self.termination = outcome
        self.session._agent_ended(self)
        return outcome


def _stop_popen(popen: subprocess.Popen[Any], timeout: float) -> Termination:
    if popen.poll() is not None:  # ended before we asked
        return classify_exit(popen.returncode)
    try:
        popen.send_signal(signals.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        popen.wait(timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()
        return classify_exit(popen.returncode, killed_after_timeout=True)
    return classify_exit(popen.returncode, sent_signal=signals.SIGTERM)


def _stop_pid(pid: int, timeout: float) -> Termination:
    """Stop a registered process we did not start; its exit code is known only to its parent."""
    try:
        process = psutil.Process(pid)
        process.terminate()
        exit_code = process.wait(timeout)
    except psutil.TimeoutExpired:
        try:
            process.kill()
            exit_code = process.wait(timeout)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            exit_code = None
        return classify_exit(exit_code, killed_after_timeout=True)
    except psutil.NoSuchProcess:
        return Termination(None, c.TerminationReason.GRACEFUL)
    except psutil.AccessDenied:
        return Termination(None, c.TerminationReason.GRACEFUL)
    return classify_exit(exit_code, sent_signal=signals.SIGTERM)


class Session:
    """The swarm session of this process: identity, tracer/meter, monitor and its agents."""

    def __init__(self, tel: Telemetry) -> None:
        self.telemetry = tel
        self.id = tel.session_id
        self.tracer = tel.tracer
        self.meter = tel.meter
        self.monitor = tel.monitor
        self.resource = tel.resource
        self.agents: dict[str, Agent] = {}
        self._lock = threading.Lock()
        # The process that created the session owns its root span and the cleanup audit.
        self.is_root = not tel.settings.session_inherited
        self._root_span: trace.Span | None = None
        if self.is_root and tel.parent_context is None:
            self._root_span = self.tracer.start_span(
                c.SPAN_SESSION, kind=SpanKind.INTERNAL, attributes={c.SESSION_ID: self.id}
            )
        self._parent_ctx = (
            trace.set_span_in_context(self._root_span)
            if self._root_span is not None
            else tel.parent_context
        )
        self._current_agent: Agent | None = None

    def parent_context(self) -> otel_context.Context | None:
        """Where new ``create_agent`` spans hang: the caller's span, else the session's."""
        if trace.get_current_span().get_span_context().is_valid:
            return None  # the current context
        return self._parent_ctx

    def register(self, agent: Agent) -> None:
        """Count ``agent`` as one of the session's and sample its process (and descendants).

        For starters other than :func:`spawn_agent` (auto-instrumentation, the watcher) that
        emit the ``create_agent`` span themselves.
        """
        with self._lock:
            self.agents[agent.id] = agent
        if self.monitor is not None and agent.pid is not None:
            try:
                self.monitor.watch(
                    agent.pid, agent_id=agent.id, agent_name=agent.name, descendants=True
                )
            except Exception as error:  # gone already: its exit is recorded all the same
                telemetry.logger.debug("watch %s failed: %r", agent.pid, error)

    def adopt(self, parent_context: otel_context.Context | None) -> None:
        """Become another agent's process: a forked child inherits its parent's identity."""
        if parent_context is not None:
            self._parent_ctx = parent_context
        self._current_agent = None

    def _agent_ended(self, agent: Agent) -> None:
        if self.monitor is not None and agent.pid is not None:
            try:
                self.monitor.unwatch(agent.pid)
            except Exception as error:
                telemetry.logger.debug("unwatch %s failed: %r", agent.pid, error)

    def current_agent(self) -> Agent | None:
        """The agent this process is (started via spawn_agent), from its environment."""
        if self._current_agent is None:
            agent_id = os.environ.get(c.ENV_AGENT_ID)
            if agent_id:
                name = os.environ.get(c.ENV_AGENT_NAME) or agent_id
                parent = self.telemetry.parent_context
                span_context = (
                    trace.get_current_span(parent).get_span_context() if parent else None
                )
                self._current_agent = Agent(
                    self, name, agent_id, c.AgentKind.PROCESS, os.getpid(),
                    span_context=span_context,
                )
        return self._current_agent

    def session_agent(self) -> Agent:
        """A pseudo-agent for tasks run outside any agent (named after the service)."""
        with self._lock:
            agent = self.agents.get("")
            if agent is None:
                name = self.telemetry.settings.service_name
                agent = Agent(self, name, self.id, c.AgentKind.INPROC)
                self.agents[""] = agent
            return agent

    def after_fork_in_child(self) -> None:
        """A forked child shares the session but neither its root span nor its agents."""
        self.is_root = False
        self._root_span = None
        self.agents = {}
        self._lock = threading.Lock()

    def finish(self) -> None:
        """At shutdown: audit leftovers (root process only) and end the session span."""
        if self.is_root and any(k for k in self.agents):
            from swarmscope.cleanup import audit

            audit(self)
        if self._root_span is not None:
            self._root_span.end()
            self._root_span = None


def _new_agent_id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def spawn_agent(
    name: str,
    command: Sequence[str] | None = None,
    *,
    agent_id: str | None = None,
    pid: int | None = None,
    kind: str = "process",
    env: Mapping[str, str] | None = None,
    **popen_kwargs: Any,
) -> Agent:
    """Start (``command``) or register (``pid``) an agent, or declare a thread/in-process one.

    Emits ``create_agent {name}``; a started process gets :func:`child_env` (session, agent id,
    TRACEPARENT of that span) merged into its environment, and the monitor watches its tree.
    """
    session = telemetry.get().session
    agent_id = agent_id or _new_agent_id(name)
    if command is None and pid is None and kind == c.AgentKind.PROCESS:
        kind = c.AgentKind.INPROC
    attributes: dict[str, Any] = {
        c.GEN_AI_OPERATION_NAME: str(c.Operation.CREATE_AGENT),
        c.GEN_AI_AGENT_ID: agent_id,
        c.GEN_AI_AGENT_NAME: name,
        c.AGENT_KIND: str(c.AgentKind(kind)),
    }
    span = session.tracer.start_span(
        c.span_name(c.Operation.CREATE_AGENT, name),
        context=session.parent_context(),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
    )
    agent = Agent(session, name, agent_id, kind, pid=pid, span_context=span.get_span_context())
    try:
        if command is not None:
            full_env = {**(env if env is not None else os.environ), **child_env(agent)}
            agent.popen = subprocess.Popen(list(command), env=full_env, **popen_kwargs)
            agent.pid = agent.popen.pid
            span.set_attribute(c.PROCESS_PARENT_PID, os.getpid())
            span.set_attribute(c.PROCESS_EXECUTABLE_NAME, os.path.basename(str(command[0])))
        elif pid is not None:
            span.set_attribute(c.PROCESS_PARENT_PID, _parent_pid(pid))
        if agent.pid is not None:
            span.set_attribute(c.PROCESS_PID, agent.pid)
    except BaseException as error:
        span.set_attribute(c.ERROR_TYPE, type(error).__qualname__)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__qualname__}: {error}"))
        span.end()
        raise
    span.end()
    session.register(agent)
    return agent


def _parent_pid(pid: int) -> int:
    try:
        return psutil.Process(pid).ppid()
    except (psutil.Error, OSError):
        return 0


def current_agent() -> Agent | None:
    """The agent running the current task, else the agent this process was started as."""
    current = _CURRENT_TASK.get()
    if current is not None:
        return current[0]
    tel = telemetry.current()
    if tel is None and not os.environ.get(c.ENV_AGENT_ID):
        return None
    return telemetry.get().session.current_agent()


def child_env(agent: Agent | None = None) -> dict[str, str]:
    """Environment that makes a child process report into this session (and as ``agent``).

    Merge it into the child's environment; :func:`spawn_agent` does this itself.
    """
    tel = telemetry.get()
    settings = tel.settings
    env = {
        c.ENV_SESSION_ID: settings.session_id,
        c.ENV_DATA_DIR: str(settings.data_dir),
        c.ENV_EXPORTER: settings.exporter,
        c.ENV_SAMPLE_INTERVAL: repr(settings.sample_interval),
    }
    if tel.monitor is not None:
        env[c.ENV_MONITORED_BY] = str(os.getpid())
    if agent is not None:
        env[c.ENV_AGENT_ID] = agent.id
        env[c.ENV_AGENT_NAME] = agent.name
    if settings.exporter == "otlp":
        env.update({k: v for k in OTEL_PASS_THROUGH if (v := os.environ.get(k))})
        if settings.endpoint:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = settings.endpoint
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = settings.protocol
    carrier: dict[str, str] = {}
    if agent is not None and agent.span_context is not None and agent.span_context.is_valid:
        ctx = trace.set_span_in_context(NonRecordingSpan(agent.span_context))
    else:
        ctx = tel.session.parent_context()
    _PROPAGATOR.inject(carrier, context=ctx)
    for key, value in carrier.items():
        env[key.upper()] = value
    return env


# ``with swarmscope.task(...)`` blocks open in this thread / asyncio task, innermost last.
_WITH_STACK: contextvars.ContextVar[tuple[_TaskSpan, ...]] = contextvars.ContextVar(
    "swarmscope_with_task", default=()
)


class _TaskDecoratorOrContext:
    """``swarmscope.task`` works as ``@task``, ``@task("name")`` and ``with task("name"):``.

    One object may serve several threads or asyncio tasks at once: the open spans live in a
    context variable, not on the object.
    """

    def __init__(self, name: str | None) -> None:
        self.name = name

    def __call__(self, func: F) -> F:
        task_name = self.name or func.__qualname__
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _agent_for_task().task(task_name):
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _agent_for_task().task(task_name):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> trace.Span:
        ctx = _agent_for_task().task(self.name)
        span = ctx.__enter__()
        _WITH_STACK.set((*_WITH_STACK.get(), ctx))
        return span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        *rest, ctx = _WITH_STACK.get()
        _WITH_STACK.set(tuple(rest))
        ctx.__exit__(exc_type, exc, tb)


def _agent_for_task() -> Agent:
    agent = current_agent()
    return agent if agent is not None else telemetry.get().session.session_agent()


def task(name: str | Callable[..., Any] | None = None) -> Any:
    """An ``invoke_agent`` span for the current agent (or the session): decorator or ``with``."""
    if callable(name):  # bare @task
        return _TaskDecoratorOrContext(None)(name)
    return _TaskDecoratorOrContext(name)
