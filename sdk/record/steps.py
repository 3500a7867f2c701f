"""asyncio task steps as accounting checkpoints: each resumption of a task's coroutine is
timed and charged to the agent whose span is current in that task's context.

Concurrent agents in one event loop share one thread, so the wall time (or the thread's CPU)
between an ``invoke_agent`` span's start and end also holds the other agents' steps. Every
task the loop creates therefore gets its coroutine wrapped in :class:`SteppedCoroutine`,
which checkpoints the ledger around each ``send``/``throw`` (CPython 3.11's C ``Task`` cannot
be patched; its coroutine can be any object implementing the coroutine protocol).

The wrapper is installed on ``asyncio.BaseEventLoop.create_task``, so it covers every loop of
the standard library - ``asyncio.run``, ``run_until_complete``, loops made later in threads
- and composes with a task factory the program sets (the factory receives the wrapped
coroutine). Loops of other implementations (uvloop) are not stepped.
"""

from __future__ import annotations

import asyncio
import collections.abc
import types
from collections.abc import Callable
from typing import Any

from swarmscope.monitor.attribution import AgentTotals, Ledger, Run

OwnerLookup = Callable[[], Run | None]


class SteppedCoroutine(collections.abc.Coroutine):
    """A task's coroutine, with a ledger checkpoint before and after each step.

    Values, exceptions (cancellation included) and the return value pass through unchanged;
    the task, its context and ``asyncio.current_task()`` are the task's own, since the task
    drives this object exactly as it would drive the coroutine. The task remembers the agent
    whose run it last ran: its steps outside runs are that agent's glue (the ledger's
    dominance rule counts them for it).
    """

    __slots__ = ("_coro", "_ledger", "_owner_of_context", "_agent")

    def __init__(self, coro: Any, ledger: Ledger, owner_of_context: OwnerLookup) -> None:
        self._coro = coro
        self._ledger = ledger
        self._owner_of_context = owner_of_context
        self._agent: AgentTotals | None = None

    def send(self, value: Any) -> Any:
        ledger = self._ledger
        outside = ledger.begin_step(self._owner_of_context(), self._agent)
        try:
            return self._coro.send(value)
        finally:
            self._agent = ledger.end_step(outside) or self._agent

    def throw(self, *args: Any) -> Any:
        ledger = self._ledger
        outside = ledger.begin_step(self._owner_of_context(), self._agent)
        try:
            return self._coro.throw(*args)
        finally:
            self._agent = ledger.end_step(outside) or self._agent

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Any:
        return self._coro.__await__()

    def __getattr__(self, name: str) -> Any:
        # cr_frame, cr_code, cr_running, __name__ ...: inspection sees the real coroutine
        return getattr(self._coro, name)

    def __repr__(self) -> str:
        return repr(self._coro)


class TaskStepping:
    """Installs and removes the stepping wrapper on ``BaseEventLoop.create_task``."""

    def __init__(self, ledger: Ledger, owner_of_context: OwnerLookup) -> None:
        self.ledger = ledger
        self.owner_of_context = owner_of_context
        self._original: Any = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = asyncio.BaseEventLoop.__dict__["create_task"]
        ledger, lookup = self.ledger, self.owner_of_context

        def create_task(loop: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
            if type(coro) is types.CoroutineType and ledger.active:
                coro = SteppedCoroutine(coro, ledger, lookup)
            return original(loop, coro, *args, **kwargs)

        create_task.__wrapped__ = original  # type: ignore[attr-defined]
        self._original = original
        asyncio.BaseEventLoop.create_task = create_task  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Put the loop's own ``create_task`` back; tasks already wrapped keep running."""
        if self._original is None:
            return
        asyncio.BaseEventLoop.create_task = self._original  # type: ignore[method-assign]
        self._original = None
