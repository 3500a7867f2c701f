"""The context managers behind tasks and tools: one ``invoke_agent`` or ``execute_tool`` span
each, and its duration on the matching ``gen_ai.*.duration`` histogram.

A small class instead of ``contextlib.contextmanager``: this is the hot path of the SDK.
Nesting follows the innermost open operation of the same agent in this thread / asyncio task,
so a tool inside a task (or a task inside a task) hangs under it instead of beside it.
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import SpanKind
from swarmscope import conventions as c
from swarmscope.record import spans

if TYPE_CHECKING:
    from swarmscope.record.agent import Agent

# The innermost operation span of this thread/task, so nested operations nest.
CURRENT: contextvars.ContextVar[tuple[Agent, trace.Span] | None] = contextvars.ContextVar(
    "swarmscope_task", default=None
)


class OperationSpan:
    """One ``invoke_agent`` / ``execute_tool`` span and its duration, as a context manager."""

    __slots__ = ("_agent", "_name", "_attributes", "_histogram", "_point", "_span", "_token",
                 "_current_token", "_started")  # fmt: skip

    def __init__(
        self,
        agent: Agent,
        span_name: str,
        attributes: dict[str, Any],
        histogram: Histogram | None,
        point: dict[str, Any],
    ) -> None:
        self._agent = agent
        self._name = span_name
        self._attributes = attributes
        self._histogram = histogram
        self._point = point  # the duration's attributes (few: one series per agent or tool)

    def __enter__(self) -> trace.Span:
        agent = self._agent
        current = CURRENT.get()
        parent = (
            trace.set_span_in_context(current[1])
            if current is not None and current[0] is agent
            else agent._parent_ctx
        )
        span = agent._tracer.start_span(
            self._name, context=parent, kind=SpanKind.INTERNAL, attributes=self._attributes
        )
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._current_token = CURRENT.set((agent, span))
        self._started = time.perf_counter()
        return span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        elapsed = time.perf_counter() - self._started
        span = self._span
        point = self._point
        if exc is not None:
            spans.record_failure(span, exc)
            point = {**point, c.ERROR_TYPE: exc_type.__qualname__}
        span.end()
        if self._histogram is not None:
            self._histogram.record(elapsed, point)
        CURRENT.reset(self._current_token)
        otel_context.detach(self._token)
