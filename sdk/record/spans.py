"""The one builder of lifecycle spans and of the environment that ties a child to them.

``create_agent`` / ``invoke_agent`` / ``execute_tool`` / ``terminate_agent`` / ``audit_cleanup``
spans are shaped here and only here: the SDK (:mod:`swarmscope.record.agent`), the
auto-instrumentation and the watcher all call these functions, so a span means the same thing
whoever saw the process. Agent ids, the exit classification and the child environment live
here for the same reason.

Per GenAI agent conventions v0.1.0, ``gen_ai.agent.id`` is for stable agent ids: swarmscope's
per-instance id goes in ``swarm.agent.id`` (:data:`~swarmscope.conventions.AGENT_INSTANCE_ID`).
"""

from __future__ import annotations

import os
import signal as signals
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from swarmscope import conventions as c
from swarmscope import settings as config
from swarmscope.procfs import signal_name
from swarmscope.redact import redact_command_line

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from swarmscope.settings import Settings
    from swarmscope.watch.hung import HungWorker
    from swarmscope.watch.leftovers import Leftover

_PROPAGATOR = TraceContextTextMapPropagator()


# --- identity ------------------------------------------------------------------------------------


def new_agent_id(name: str) -> str:
    """A fresh agent instance id: ``<name>-<8 hex>``."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def agent_attributes(
    operation: c.Operation, name: str, agent_id: str, kind: c.AgentKind | str | None = None
) -> dict[str, Any]:
    """The attributes every span of one agent carries."""
    attributes: dict[str, Any] = {
        c.GEN_AI_OPERATION_NAME: str(operation),
        c.AGENT_INSTANCE_ID: agent_id,
        c.GEN_AI_AGENT_NAME: name,
    }
    if kind is not None:
        attributes[c.AGENT_KIND] = str(c.AgentKind(kind))
    return attributes


def _parent(parent: SpanContext | None, context: Context | None) -> Context | None:
    """``parent`` (a span context, e.g. the parent process's create_agent span) wins over
    ``context`` (an OpenTelemetry Context, e.g. the session's root span)."""
    if parent is not None and parent.is_valid:
        return trace.set_span_in_context(NonRecordingSpan(parent))
    return context


def iso_time(epoch_s: float) -> str:
    """ISO-8601 in UTC, as ``process.creation.time`` and ``process.exit.time`` want it."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def record_failure(span: trace.Span, error: BaseException) -> None:
    """``error.type``, the exception event and an ERROR status on ``span``."""
    kind = type(error).__qualname__
    span.set_attribute(c.ERROR_TYPE, kind)
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{kind}: {error}"))


# --- create_agent --------------------------------------------------------------------------------


def start_create_agent(
    tracer: trace.Tracer,
    name: str,
    agent_id: str,
    *,
    kind: c.AgentKind | str = c.AgentKind.PROCESS,
    parent: SpanContext | None = None,
    context: Context | None = None,
    start_time_ns: int | None = None,
) -> trace.Span:
    """Open a ``create_agent {name}`` span; its context becomes the child's TRACEPARENT."""
    return tracer.start_span(
        c.span_name(c.Operation.CREATE_AGENT, name),
        context=_parent(parent, context),
        kind=SpanKind.INTERNAL,
        start_time=start_time_ns,
        attributes=agent_attributes(c.Operation.CREATE_AGENT, name, agent_id, kind),
    )


def process_attributes(
    pid: int | None,
    *,
    parent_pid: int | None = None,
    argv: list[str] | None = None,
    executable: str | None = None,
    record_command_line: bool = False,
    create_time: float | None = None,
) -> dict[str, Any]:
    """``process.*`` span attributes; the command line only when enabled, and redacted."""
    attrs: dict[str, Any] = {}
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
        attrs[c.PROCESS_CREATION_TIME] = iso_time(create_time)
    return attrs


# --- invoke_agent / execute_tool -----------------------------------------------------------------


def invoke_agent_attributes(
    name: str, agent_id: str, task_name: str | None = None, task_id: str | None = None
) -> dict[str, Any]:
    """Attributes of an ``invoke_agent {name}`` span (one task of the agent)."""
    attributes = agent_attributes(c.Operation.INVOKE_AGENT, name, agent_id)
    if task_name is not None:
        attributes[c.TASK_NAME] = task_name
    if task_id is not None:
        attributes[c.TASK_ID] = task_id
    return attributes


def execute_tool_attributes(tool: str, name: str, agent_id: str) -> dict[str, Any]:
    """Attributes of an ``execute_tool {tool}`` span run by agent ``name``."""
    attributes = agent_attributes(c.Operation.EXECUTE_TOOL, name, agent_id)
    attributes[c.GEN_AI_TOOL_NAME] = tool
    return attributes


# --- terminate_agent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Termination:
    """How an agent ended: exit code (negative: killed by that signal), reason and signal.

    ``exit_time`` (epoch seconds) is set when the end was observed; None otherwise."""

    exit_code: int | None
    reason: c.TerminationReason | None
    signal: int | None = None
    exit_time: float | None = field(default=None, compare=False)


def classify_exit(
    exit_code: int | None,
    *,
    sent_signal: int | None = None,
    killed_after_timeout: bool = False,
    unknown: c.TerminationReason | None = c.TerminationReason.GRACEFUL,
    exit_time: float | None = None,
) -> Termination:
    """Map a return code (``-N``: killed by signal N) to a termination reason.

    A process that dies of the SIGTERM we sent stopped when asked: graceful. Death by any other
    signal is ``signal``; a non-zero exit is ``crashed``. An unknown code gets ``unknown``: the
    SDK counts an agent it declared ended as graceful, the watcher records no reason.
    """
    if killed_after_timeout:
        sig = int(signals.SIGKILL)
        return Termination(exit_code, c.TerminationReason.TIMEOUT_KILLED, sig, exit_time)
    if exit_code is None:
        return Termination(None, unknown, None, exit_time)
    if exit_code == 0:
        return Termination(0, c.TerminationReason.GRACEFUL, None, exit_time)
    if exit_code < 0:
        asked = -exit_code == sent_signal
        reason = c.TerminationReason.GRACEFUL if asked else c.TerminationReason.SIGNAL
        return Termination(exit_code, reason, -exit_code, exit_time)
    return Termination(exit_code, c.TerminationReason.CRASHED, None, exit_time)


def start_terminate_agent(
    tracer: trace.Tracer,
    name: str,
    agent_id: str,
    *,
    kind: c.AgentKind | str = c.AgentKind.PROCESS,
    pid: int | None = None,
    parent: SpanContext | None = None,
    context: Context | None = None,
) -> trace.Span:
    """Open a ``terminate_agent {name}`` span under the agent's create_agent span."""
    attributes = agent_attributes(c.Operation.TERMINATE_AGENT, name, agent_id, kind)
    if pid is not None:
        attributes[c.PROCESS_PID] = pid
    return tracer.start_span(
        c.span_name(c.Operation.TERMINATE_AGENT, name),
        context=_parent(parent, context),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
    )


def end_terminate_agent(span: trace.Span, outcome: Termination) -> None:
    """Record ``outcome`` on a terminate_agent span and end it; crashes and signals are errors."""
    if outcome.reason is not None:
        span.set_attribute(c.TERMINATION_REASON, str(outcome.reason))
    if outcome.exit_code is not None:
        span.set_attribute(c.PROCESS_EXIT_CODE, outcome.exit_code)
    if outcome.signal is not None:
        span.set_attribute(c.EXIT_SIGNAL, int(outcome.signal))
    if outcome.exit_time is not None:
        span.set_attribute(c.PROCESS_EXIT_TIME, iso_time(outcome.exit_time))
    if outcome.reason in (c.TerminationReason.CRASHED, c.TerminationReason.SIGNAL):
        error = signal_name(outcome.signal) if outcome.signal else f"exit {outcome.exit_code}"
        span.set_attribute(c.ERROR_TYPE, error)
        span.set_status(Status(StatusCode.ERROR, f"agent {outcome.reason}"))
    span.end()


def emit_terminate_agent(
    tracer: trace.Tracer,
    name: str,
    agent_id: str,
    outcome: Termination,
    *,
    pid: int | None = None,
    parent: SpanContext | None = None,
) -> None:
    """A whole terminate_agent span at once, for ends observed from outside (the watcher)."""
    span = start_terminate_agent(tracer, name, agent_id, pid=pid, parent=parent)
    end_terminate_agent(span, outcome)


# --- audit_cleanup -------------------------------------------------------------------------------


def emit_cleanup_audit(
    tracer: trace.Tracer,
    leftovers: Iterable[Leftover],
    *,
    context: Context | None = None,
    session_id: str | None = None,
    agent_ids: Mapping[int, str] | None = None,
    hung: Iterable[HungWorker] = (),
    event_overruns: int = 0,
) -> None:
    """The ``audit_cleanup`` span with one orphan/zombie event per left-over process, and one
    ``swarm.process.hung`` event per hung worker the watcher found.

    ``agent_ids`` (pid -> agent id) names agents whose zombies lost their environment;
    ``event_overruns`` is how often the watcher's kernel process events overflowed."""
    items = list(leftovers)
    stuck = list(hung)
    attrs: dict[str, Any] = {c.SESSION_ID: session_id} if session_id else {}
    if event_overruns:
        attrs[c.PROCESS_EVENT_OVERRUNS] = event_overruns
    span = tracer.start_span(
        c.SPAN_CLEANUP_AUDIT, context=context, kind=SpanKind.INTERNAL, attributes=attrs
    )
    for item in items:
        event = item.event_attributes()
        if agent_ids and item.pid in agent_ids:
            event[c.AGENT_INSTANCE_ID] = agent_ids[item.pid]
        span.add_event(c.EVENT_ZOMBIE if item.zombie else c.EVENT_ORPHAN, event)
    for worker in stuck:
        span.add_event(c.EVENT_HUNG, hung_event_attributes(worker))
    if items or stuck:
        parts = [f"{len(items)} left over"] if items else []
        parts += [f"{len(stuck)} hung"] if stuck else []
        span.set_status(Status(StatusCode.ERROR, ", ".join(parts)))
    span.end()


def hung_event_attributes(worker: HungWorker) -> dict[str, Any]:
    """Attributes of a ``swarm.process.hung`` event: who, what it waits on, for how long."""
    attributes: dict[str, Any] = {
        c.PROCESS_PID: worker.pid,
        c.GEN_AI_AGENT_NAME: worker.name,
        c.WAITING_ON: worker.waiting_on,
        c.IDLE_SECONDS: worker.idle_s,
    }
    if worker.agent_id:
        attributes[c.AGENT_INSTANCE_ID] = worker.agent_id
    if worker.fd is not None:
        attributes[c.WAIT_FD] = worker.fd
    if worker.holder_pid is not None:
        attributes[c.HOLDER_PID] = worker.holder_pid
    return attributes


def role_attributes(role: c.AgentRole | str) -> dict[str, str]:
    """``swarm.agent.role`` for a watched process's create_agent span (agent or helper)."""
    return {c.AGENT_ROLE: str(c.AgentRole(role))}


def parent_from_environment(env: Mapping[str, str]) -> SpanContext | None:
    """The span context a process was started under (its ``TRACEPARENT``), if any."""
    keys = (c.ENV_TRACEPARENT, c.ENV_TRACESTATE)
    carrier = {key.lower(): env[key] for key in keys if env.get(key)}
    if not carrier:
        return None
    context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    return context if context.is_valid else None


def emit_reaped(
    tracer: trace.Tracer,
    name: str,
    *,
    pid: int,
    killed: bool,
    parent: SpanContext | None = None,
    create_time: float | None = None,
    exit_time: float | None = None,
) -> None:
    """A ``terminate_agent`` span for a left-over process that ``swarmscope reap`` ended:
    ``swarm.process.reaped``, stopped by SIGTERM (graceful) or SIGKILL after the timeout.

    A fresh instance id: the watcher's id for the process is not in its environment, so the
    analyzer matches it by ``process.pid`` and ``process.creation.time``."""
    span = start_terminate_agent(tracer, name, new_agent_id(name), pid=pid, parent=parent)
    span.set_attribute(c.REAPED, True)
    if create_time is not None:
        span.set_attribute(c.PROCESS_CREATION_TIME, iso_time(create_time))
    sig = signals.SIGKILL if killed else signals.SIGTERM
    reason = c.TerminationReason.TIMEOUT_KILLED if killed else c.TerminationReason.GRACEFUL
    end_terminate_agent(span, Termination(None, reason, int(sig), exit_time or time.time()))


# --- the child environment -----------------------------------------------------------------------


def child_environment(
    settings: Settings | None,
    *,
    session_id: str,
    agent_id: str | None = None,
    agent_name: str | None = None,
    parent: SpanContext | None = None,
    context: Context | None = None,
    monitored_by: int | None = None,
) -> dict[str, str]:
    """Variables that make a child process report into this session, as this agent.

    The session id also marks the child (and everything it starts) as ours for the cleanup
    audit. ``parent``/``context`` become its TRACEPARENT; ``monitored_by`` tells an
    instrumented child that this process samples it already.
    """
    env = {c.ENV_SESSION_ID: session_id}
    if settings is not None:
        env[c.ENV_DATA_DIR] = str(settings.data_dir)
        env[c.ENV_EXPORTER] = settings.exporter
        env[c.ENV_SAMPLE_INTERVAL] = repr(settings.sample_interval)
        if settings.exporter == "otlp":
            env.update(config.otel_pass_through())
            if settings.endpoint:
                env[config.OTEL_ENDPOINT] = settings.endpoint
            env[config.OTEL_PROTOCOL] = settings.protocol
    if monitored_by is not None:
        env[c.ENV_MONITORED_BY] = str(monitored_by)
    if agent_id is not None:
        env[c.ENV_AGENT_ID] = agent_id
        env[c.ENV_AGENT_NAME] = agent_name or agent_id
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=_parent(parent, context))
    for key, value in carrier.items():
        env[key.upper()] = value
    return env
