"""In-process agents: the agents of Python frameworks, known from the spans they emit.

:class:`AgentSpanProcessor` joins whatever TracerProvider the program uses (swarmscope's own
or the program's) beside the framework's instrumentation and other processors. It recognises
agent runs - GenAI ``invoke_agent`` spans, and OpenInference ``AGENT`` spans where that is a
framework's only form - and keeps a bounded table span id -> owning run: an agent run owns
itself, any other span inherits its parent's owner. Its ``on_start``/``on_end`` are ledger
checkpoints (:mod:`swarmscope.monitor.attribution`), as are asyncio task steps
(:mod:`swarmscope.record.steps`).

An in-process agent is its name and its process: its id is ``<name>@<pid>``, set as
``swarm.agent.id`` on its run spans (at start when the name is known then, else as the run
ends), so the analyzer joins the spans with the per-agent metrics. As a run ends, its CPU and
the agent's retained memory so far are written on its span.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from swarmscope import conventions as c
from swarmscope.monitor.attribution import AgentTotals, Ledger, Run
from swarmscope.monitor.sites import AllocationSites

logger = logging.getLogger("swarmscope")

MAX_TRACKED_SPANS = 50_000  # spans that never end must not grow the table without bound
INVOKE_PREFIX = f"{c.Operation.INVOKE_AGENT} "


def run_identity(span: Span) -> tuple[str | None, bool] | None:
    """(agent name or None, name confirmed) when ``span`` is an in-process agent run."""
    scope = span.instrumentation_scope
    if scope is not None and scope.name == c.SCOPE_NAME:
        return None  # swarmscope's own lifecycle spans belong to process agents
    attrs = span.attributes or {}
    operation = attrs.get(c.GEN_AI_OPERATION_NAME)
    if operation == c.Operation.INVOKE_AGENT or (
        operation is None and span.name.startswith(INVOKE_PREFIX)
    ):
        name = attrs.get(c.GEN_AI_AGENT_NAME) or span.name[len(INVOKE_PREFIX):].strip()
        return (str(name), True) if name else (None, False)
    if attrs.get(c.OPENINFERENCE_SPAN_KIND) == c.OpenInferenceKind.AGENT:
        name = attrs.get(c.OPENINFERENCE_AGENT_NAME) or attrs.get(c.OPENINFERENCE_GRAPH_NODE_ID)
        # the agent's name is set as it ends; a workflow span never gets one
        return (str(name), True) if name else (span.name or None, False)
    return None


def ended_name(span: Span) -> str | None:
    """The agent name a run span carries as it ends (frameworks may set it late)."""
    attrs = span.attributes or {}
    for key in (c.GEN_AI_AGENT_NAME, c.OPENINFERENCE_AGENT_NAME, c.OPENINFERENCE_GRAPH_NODE_ID):
        if attrs.get(key):
            return str(attrs[key])
    return None


class AgentSpanProcessor(SpanProcessor):
    """Tracks which agent run owns each open span and checkpoints the ledger."""

    def __init__(self, ledger: Ledger, max_spans: int = MAX_TRACKED_SPANS) -> None:
        self.ledger = ledger
        self.max_spans = max_spans
        self._owners: dict[int, Run] = {}
        self._lock = threading.Lock()
        self.sites = AllocationSites() if ledger.exact else None

    # -- lookups --
    def owner_of_context(self) -> Run | None:
        """The run that owns the span current in the calling code's context."""
        span_id = trace.get_current_span().get_span_context().span_id
        return self._owners.get(span_id) if span_id else None

    def tracked(self) -> int:
        return len(self._owners)

    # -- SpanProcessor --
    def on_start(self, span: Span, parent_context: Any = None) -> None:
        if not self.ledger.active:
            return
        try:
            self._start(span)
        except Exception as error:  # telemetry must never break the framework's code
            logger.debug("in-process agent tracking failed at span start: %r", error)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.ledger.active:
            return
        try:
            span_id = span.context.span_id
            with self._lock:
                run = self._owners.pop(span_id, None)
            if run is None:
                return
            parent = span.parent
            self.ledger.checkpoint(self._owners.get(parent.span_id) if parent else None)
        except Exception as error:
            logger.debug("in-process agent tracking failed at span end: %r", error)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    # -- runs --
    def _start(self, span: Span) -> None:
        parent = span.parent
        parent_run = self._owners.get(parent.span_id) if parent is not None else None
        identity = run_identity(span)
        if identity is None:
            if parent_run is None:
                return  # outside every agent
            run = parent_run
        else:
            run = self._start_run(span, *identity)
        self._remember(span.context.span_id, run)
        self.ledger.checkpoint(run)

    def _start_run(self, span: Span, name: str | None, confirmed: bool) -> Run:
        agent = self._agent(name or "", confirmed)
        run = self.ledger.start_run(agent)
        run.provisional = not confirmed
        if confirmed:
            self._label(span, agent)
        self._wrap_end(span, run)
        return run

    def _agent(self, name: str, confirmed: bool) -> AgentTotals:
        return self.ledger.agent(name, c.inproc_agent_id(name, self.ledger.pid), confirmed)

    def _remember(self, span_id: int, run: Run) -> None:
        with self._lock:
            owners = self._owners
            owners[span_id] = run
            while len(owners) > self.max_spans:  # the oldest entries go first
                del owners[next(iter(owners))]

    def _label(self, span: Span, agent: AgentTotals) -> None:
        span.set_attribute(c.AGENT_INSTANCE_ID, agent.agent_id)
        span.set_attribute(c.AGENT_KIND, str(c.AgentKind.INPROC))
        span.set_attribute(c.PROCESS_PID, agent.pid)
        if not (span.attributes or {}).get(c.GEN_AI_AGENT_NAME):
            span.set_attribute(c.GEN_AI_AGENT_NAME, agent.name)

    def _wrap_end(self, span: Span, run: Run) -> None:
        """Write the run's figures on its span while it can still take attributes: just
        before the span's own ``end`` (on_end only sees a read-only copy)."""
        original = span.end

        def end(end_time: int | None = None) -> None:
            try:
                self._finish(span, run)
            except Exception as error:
                logger.debug("in-process agent run could not be closed: %r", error)
            span.__dict__.pop("end", None)  # back to the class's method; no cycle left
            original(end_time)

        span.end = end  # type: ignore[method-assign]

    def _finish(self, span: Span, run: Run) -> None:
        if not span.is_recording() or not self.ledger.active:
            return
        self.ledger.checkpoint(run, close=True)  # the run's last segment, up to now
        if run.provisional:
            name = ended_name(span)
            if name is None:
                self.ledger.end_run(run)  # not an agent (e.g. a workflow span)
                return
            self.ledger.move_run(run, self._agent(name, True))
            self._label(span, run.agent)
        self.ledger.end_run(run)
        exact = self.ledger.exact
        span.set_attribute(c.AGENT_RUN_CPU_TIME, round(run.cpu, 6))
        span.set_attribute(c.AGENT_RUN_RETAINED_BYTES if exact else c.AGENT_RUN_RETAINED_BLOCKS,
                           run.agent.memory)
        span.set_attribute(c.AGENT_RUN_PROCESS_BYTES if exact else c.AGENT_RUN_PROCESS_BLOCKS,
                           self.ledger.process_memory())
        span.set_attribute(c.AGENT_RUN_UNATTRIBUTED, run.agent.unattributed)
        span.set_attribute(c.AGENT_RUN_MEMORY_COUNTED, not run.tainted)
        if self.sites is not None and self.sites.due(run.agent.runs, run.agent.memory):
            span.set_attribute(c.AGENT_ALLOCATION_SITES, self.sites.top())
