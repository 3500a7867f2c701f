"""``swarmscope.task`` and ``swarmscope.tool``: work of the current agent as spans.

Both work as ``@task``, ``@task("name")`` and ``with task("name"):`` (``tool`` always takes
the tool's name), on functions and coroutines. One object may serve several threads or asyncio
tasks at once: the open spans live in a context variable, not on the object.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import trace
from swarmscope import settings as config
from swarmscope.record import telemetry
from swarmscope.record.agent import Agent
from swarmscope.record.operations import CURRENT, OperationSpan

F = TypeVar("F", bound=Callable[..., Any])

# ``with swarmscope.task(...)`` / ``tool(...)`` blocks open in this thread or task, innermost last.
_WITH_STACK: contextvars.ContextVar[tuple[OperationSpan, ...]] = contextvars.ContextVar(
    "swarmscope_with_task", default=()
)


def current_agent() -> Agent | None:
    """The agent running the current task, else the agent this process was started as."""
    current = CURRENT.get()
    if current is not None:
        return current[0]
    if telemetry.current() is None and config.inherited_agent()[0] is None:
        return None
    return telemetry.get().session.current_agent()


def _agent_for_work() -> Agent:
    agent = current_agent()
    return agent if agent is not None else telemetry.get().session.session_agent()


class _DecoratorOrContext:
    """Opens ``open(agent)`` around a call (as a decorator) or a block (as ``with``)."""

    def __init__(self, open_span: Callable[[Agent, str | None], OperationSpan],
                 name: str | None) -> None:  # fmt: skip
        self._open = open_span
        self.name = name

    def __call__(self, func: F) -> F:
        name = self.name or func.__qualname__
        open_span = self._open
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with open_span(_agent_for_work(), name):
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with open_span(_agent_for_work(), name):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> trace.Span:
        ctx = self._open(_agent_for_work(), self.name)
        span = ctx.__enter__()
        _WITH_STACK.set((*_WITH_STACK.get(), ctx))
        return span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        *rest, ctx = _WITH_STACK.get()
        _WITH_STACK.set(tuple(rest))
        ctx.__exit__(exc_type, exc, tb)


def _task(agent: Agent, name: str | None) -> OperationSpan:
    return agent.task(name)


def _tool(agent: Agent, name: str | None) -> OperationSpan:
    return agent.tool(name or "tool")


def task(name: str | Callable[..., Any] | None = None) -> Any:
    """An ``invoke_agent`` span for the current agent (or the session): decorator or ``with``."""
    if callable(name):  # bare @task
        return _DecoratorOrContext(_task, None)(name)
    return _DecoratorOrContext(_task, name)


def tool(name: str | Callable[..., Any]) -> Any:
    """An ``execute_tool {name}`` span for the current agent: decorator or ``with``.

    ``@tool`` alone names the tool after the function."""
    if callable(name):  # bare @tool
        return _DecoratorOrContext(_tool, None)(name)
    return _DecoratorOrContext(_tool, name)
