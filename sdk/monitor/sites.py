"""tracemalloc mode: the allocation sites behind an in-process agent's retained memory.

A snapshot walks every traced allocation (about a second with a large framework's heap), so
it is taken rarely: on every ``EVERY_RUNS``-th run of an agent whose retained memory passed
``MIN_BYTES``, at most once per ``MIN_INTERVAL_S`` per process (the first one, the baseline,
on the first such run). The sites are the lines whose traced size grew most since the
process's first snapshot - process-wide growth, recorded on the run of the agent whose
retained memory grew (with concurrent agents, read them next to that agent's verdict).
"""

from __future__ import annotations

import time
import tracemalloc

EVERY_RUNS = 10
MIN_BYTES = 1 << 20
MIN_INTERVAL_S = 30.0
TOP = 5
_IGNORED = (tracemalloc.__file__, "<frozen importlib._bootstrap>",
            "<frozen importlib._bootstrap_external>")


class AllocationSites:
    def __init__(self) -> None:
        self._baseline: tracemalloc.Snapshot | None = None
        self._last = 0.0

    def due(self, runs: int, retained: int) -> bool:
        return (tracemalloc.is_tracing() and runs % EVERY_RUNS == 0 and retained >= MIN_BYTES
                and (self._baseline is None or time.monotonic() - self._last >= MIN_INTERVAL_S))

    def top(self) -> list[str]:
        """The top growth sites since the first snapshot (none at the first)."""
        self._last = time.monotonic()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, name) for name in _IGNORED])
        if self._baseline is None:
            self._baseline = snapshot
            return []
        grown = [s for s in snapshot.compare_to(self._baseline, "lineno") if s.size_diff > 0]
        return [f"{s.traceback[0].filename}:{s.traceback[0].lineno} +{s.size_diff} B "
                f"(+{s.count_diff} blocks)" for s in grown[:TOP]]
