"""Work an agent hands to a thread pool is still the agent's: its CPU is charged to the run
that handed it over.

Frameworks run plain ``def`` tools in worker threads - pydantic-ai through
``anyio.to_thread.run_sync``, the OpenAI Agents SDK through ``asyncio.to_thread`` (a
``ThreadPoolExecutor``). No span starts or ends in the worker, so nothing would checkpoint
there. The owner is looked up where the work is submitted (the tool's span is current in the
submitting task) and the function runs between two ledger checkpoints in the worker thread.
Memory of such work is seldom attributed: the submitting loop keeps running meanwhile, so
the interval is shared with another thread (see :mod:`swarmscope.monitor.attribution`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from swarmscope.monitor.attribution import Ledger, Run

OwnerLookup = Callable[[], Run | None]


def charged(func: Callable[..., Any], ledger: Ledger, owner: Run) -> Callable[..., Any]:
    """``func`` run as a step of ``owner`` in whatever thread calls it."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        outside = ledger.begin_step(owner)
        try:
            return func(*args, **kwargs)
        finally:
            ledger.end_step(outside)

    return run


class ThreadHandoff:
    """Installs and removes the wrappers on ``ThreadPoolExecutor.submit`` and anyio's
    ``to_thread.run_sync`` (when anyio is installed)."""

    def __init__(self, ledger: Ledger, owner_of_context: OwnerLookup) -> None:
        self.ledger = ledger
        self.owner_of_context = owner_of_context
        self._originals: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        if self._originals:
            return
        self._patch(ThreadPoolExecutor, "submit", self._wrap_submit)
        if importlib.util.find_spec("anyio") is not None:
            self._patch(importlib.import_module("anyio.to_thread"), "run_sync",
                        self._wrap_run_sync)

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()

    def _patch(self, owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        self._originals.append((owner, name, original))
        setattr(owner, name, wrap(original))

    def _owner(self) -> Run | None:
        return self.owner_of_context() if self.ledger.active else None

    def _wrap_submit(self, original: Any) -> Any:
        handoff = self

        @functools.wraps(original)
        def submit(executor: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            owner = handoff._owner()
            if owner is not None:
                fn = charged(fn, handoff.ledger, owner)
            return original(executor, fn, *args, **kwargs)

        return submit

    def _wrap_run_sync(self, original: Any) -> Any:
        handoff = self

        @functools.wraps(original)
        async def run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
            owner = handoff._owner()
            if owner is not None:
                func = charged(func, handoff.ledger, owner)
            return await original(func, *args, **kwargs)

        return run_sync
