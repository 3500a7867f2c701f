"""The swarm session of this process: identity, tracer and meter, the agents and the audit.

The process that created the session owns its root span (``swarm_session``) and, at shutdown,
the cleanup audit. Processes that inherited the session id from a parent only add to it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from swarmscope import conventions as c
from swarmscope import settings as config
from swarmscope.record import spans
from swarmscope.record.agent import Agent

if TYPE_CHECKING:
    from swarmscope.record.telemetry import Telemetry

logger = logging.getLogger("swarmscope")


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
        self.task_duration = self.meter.create_histogram(
            c.GEN_AI_INVOKE_AGENT_DURATION, unit=c.UNITS[c.GEN_AI_INVOKE_AGENT_DURATION],
            description="Duration of each agent task (invoke_agent)",
        )  # fmt: skip
        self.tool_duration = self.meter.create_histogram(
            c.GEN_AI_EXECUTE_TOOL_DURATION, unit=c.UNITS[c.GEN_AI_EXECUTE_TOOL_DURATION],
            description="Duration of each tool call (execute_tool)",
        )  # fmt: skip
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
                logger.debug("watch %s failed: %r", agent.pid, error)

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
                logger.debug("unwatch %s failed: %r", agent.pid, error)

    def current_agent(self) -> Agent | None:
        """The agent this process is (started via spawn_agent), from its environment."""
        if self._current_agent is None:
            agent_id, name = config.inherited_agent()
            if agent_id:
                parent = self.telemetry.parent_context
                span_context = (
                    trace.get_current_span(parent).get_span_context() if parent else None
                )
                self._current_agent = Agent(
                    self, name or agent_id, agent_id, c.AgentKind.PROCESS, os.getpid(),
                    span_context=span_context,
                )  # fmt: skip
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

    def child_env(self, agent: Agent | None = None) -> dict[str, str]:
        """Environment that makes a child process report into this session (and as ``agent``)."""
        parent = agent.span_context if agent is not None else None
        return spans.child_environment(
            self.telemetry.settings,
            session_id=self.id,
            agent_id=agent.id if agent is not None else None,
            agent_name=agent.name if agent is not None else None,
            parent=parent,
            context=self.parent_context(),
            monitored_by=os.getpid() if self.monitor is not None else None,
        )

    def after_fork_in_child(self) -> None:
        """A forked child shares the session but neither its root span nor its agents."""
        self.is_root = False
        self._root_span = None
        self.agents = {}
        self._lock = threading.Lock()

    def finish(self) -> None:
        """At shutdown: audit leftovers (root process only) and end the session span."""
        if self.is_root and any(k for k in self.agents):
            self.audit()
        if self._root_span is not None:
            self._root_span.end()
            self._root_span = None

    def audit(self) -> list:
        """Emit the ``audit_cleanup`` span with one event per process the session left behind."""
        from swarmscope.watch.leftovers import find_leftovers

        leftovers = find_leftovers(
            self.id,
            since=self.telemetry.start_ns / 1e9,
            record_command_line=self.telemetry.settings.record_command_lines,
        )
        # zombies lost their environment; we know our agents among them by pid
        agent_ids = {a.pid: a.id for a in self.agents.values() if a.pid is not None}
        spans.emit_cleanup_audit(
            self.tracer, leftovers, context=self._parent_ctx, session_id=self.id,
            agent_ids=agent_ids,
        )  # fmt: skip
        return leftovers
