"""CPython runtime metrics of the process they run in: GC activity per generation, GC pauses
and a cheap heap figure.

Counters come straight from ``gc.get_stats()`` at collection time. Pause durations are timed
by a ``gc.callbacks`` hook; the hook only appends to a bounded deque, and the durations are
recorded into the histogram later (``flush()``, called by the sampler each round and at every
metric collection). Recording from inside the hook could deadlock: a collection may start while
this very thread holds a metrics-SDK lock, and the hook would then wait for that lock forever.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections import deque
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from swarmscope import settings as config
from swarmscope.conventions import (
    AGENT_INSTANCE_ID,
    GC_COLLECTED_OBJECTS,
    GC_COLLECTIONS,
    GC_GENERATION,
    GC_PAUSE_DURATION,
    GC_UNCOLLECTABLE_OBJECTS,
    HEAP_ALLOCATED_BLOCKS,
    PROCESS_PID,
    UNITS,
)

# GC pauses range from microseconds (young generation) to seconds (huge old generation).
PAUSE_BUCKETS_S: tuple[float, ...] = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
_MAX_PENDING = 10_000  # pauses kept while nobody flushes; older ones are dropped


class GcMetrics:
    """GC and heap instruments for this interpreter; ``install()`` starts timing GC pauses."""

    def __init__(self, meter: Meter, agent_id: str | None = None) -> None:
        self._agent_id = agent_id
        self._pending: deque[tuple[int, float]] = deque(maxlen=_MAX_PENDING)
        self._bind_to_this_process()
        self._installed = False

        # No descriptions (the JSON encoder repeats them on every metrics line; the meanings are
        # in docs/conventions.md). Garbage collections run, per generation:
        meter.create_observable_counter(
            GC_COLLECTIONS, [self._observe_collections], unit=UNITS[GC_COLLECTIONS],
        )  # fmt: skip
        # objects the garbage collector freed, per generation
        meter.create_observable_counter(
            GC_COLLECTED_OBJECTS, [self._observe_collected], unit=UNITS[GC_COLLECTED_OBJECTS],
        )  # fmt: skip
        # objects the garbage collector found but could not free, per generation
        meter.create_observable_counter(
            GC_UNCOLLECTABLE_OBJECTS, [self._observe_uncollectable],
            unit=UNITS[GC_UNCOLLECTABLE_OBJECTS],
        )  # fmt: skip
        # duration of each garbage collection (the program is paused meanwhile)
        self._pauses = meter.create_histogram(
            GC_PAUSE_DURATION, unit=UNITS[GC_PAUSE_DURATION],
            explicit_bucket_boundaries_advisory=list(PAUSE_BUCKETS_S),
        )  # fmt: skip
        # memory blocks currently allocated by the interpreter
        meter.create_observable_gauge(
            HEAP_ALLOCATED_BLOCKS, [self._observe_heap], unit=UNITS[HEAP_ALLOCATED_BLOCKS],
        )  # fmt: skip

    def _bind_to_this_process(self) -> None:
        self._pid = os.getpid()
        agent_id = self._agent_id if self._agent_id is not None else config.inherited_agent()[0]
        self._base: dict[str, str | int] = {PROCESS_PID: self._pid}
        if agent_id:
            self._base[AGENT_INSTANCE_ID] = agent_id
        # Generation attributes are fixed: build them once, not on every collection.
        self._gen_attrs = [{**self._base, GC_GENERATION: g} for g in range(3)]
        self._pending.clear()
        self._started: float | None = None

    def after_fork_in_child(self) -> None:
        """Report as the child from now on: its pid, its agent id, none of the parent's pauses.
        The inherited ``gc.callbacks`` hook stays and starts timing for the child."""
        self._bind_to_this_process()

    # --- pause timing --------------------------------------------------------------------------
    @property
    def installed(self) -> bool:
        return self._installed

    def install(self) -> None:
        """Start timing GC pauses (idempotent)."""
        if not self._installed:
            gc.callbacks.append(self._on_gc)
            self._installed = True

    def uninstall(self) -> None:
        """Stop timing GC pauses and record what was timed so far (idempotent)."""
        if self._installed:
            try:
                gc.callbacks.remove(self._on_gc)
            except ValueError:  # someone else cleared gc.callbacks
                pass
            self._installed = False
        self.flush()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # After fork() the child inherits this hook; its own GcMetrics does the timing there.
        if os.getpid() != self._pid:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self._pending.append((info.get("generation", 0), time.perf_counter() - self._started))
            self._started = None

    def flush(self) -> int:
        """Record the pauses timed since the last flush; returns how many."""
        n = 0
        pending, record, attrs = self._pending, self._pauses.record, self._gen_attrs
        while pending:
            try:
                generation, seconds = pending.popleft()
            except IndexError:
                break
            record(seconds, attrs[generation if 0 <= generation < 3 else 2])
            n += 1
        return n

    # --- observable callbacks ------------------------------------------------------------------
    def _observe(self, key: str) -> Iterable[Observation]:
        return [
            Observation(stats[key], self._gen_attrs[g])
            for g, stats in enumerate(gc.get_stats()[:3])
        ]

    def _observe_collections(self, _options: CallbackOptions) -> Iterable[Observation]:
        # First GC callback of a collection cycle: pauses timed since the last sampler round go
        # into this same export.
        self.flush()
        return self._observe("collections")

    def _observe_collected(self, _options: CallbackOptions) -> Iterable[Observation]:
        return self._observe("collected")

    def _observe_uncollectable(self, _options: CallbackOptions) -> Iterable[Observation]:
        return self._observe("uncollectable")

    def _observe_heap(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(sys.getallocatedblocks(), self._base)]
