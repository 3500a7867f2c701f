"""Which Node.js runtime series grading loads, and under which names (sql/grading_node_points.sql).

The preload's points (docs/node.md) come out as grading series: the V8 heap summed over its
heap spaces, the running GC seconds and GC counts per ``v8js.gc.type``, and the event-loop
delay gauges - each attributed to the agent recorded with the point's pid.
"""

from __future__ import annotations

from swarmscope import conventions as C

# The GC counts of v8js.gc.duration (its histogram count), as a series of their own: a derived
# name, not a telemetry name (OTLP and Prometheus call a histogram's count <name>_count).
GC_COUNT_SERIES = f"{C.V8JS_GC_DURATION}.count"
LOOP_SERIES = [C.NODEJS_LOOP_DELAY_MAX, C.NODEJS_LOOP_DELAY_P99]
SERIES = [C.V8JS_HEAP_USED, C.V8JS_GC_DURATION, GC_COUNT_SERIES, *LOOP_SERIES]
SQL = "grading_node_points"


def params(session_ids: list[str], from_ns: list[int | None],
           earliest_ns: int | None) -> dict[str, object]:
    """The parameters of ``sql/grading_node_points.sql`` for ``session_ids``, each loaded
    from its ``from_ns`` on (None: all of it); ``earliest_ns`` is the earliest of them."""
    return {"sessions": session_ids, "heap": C.V8JS_HEAP_USED, "gc": C.V8JS_GC_DURATION,
            "gc_count": GC_COUNT_SERIES, "gc_type": C.V8JS_GC_TYPE, "loop": LOOP_SERIES,
            "series": SERIES, "from_ns": from_ns, "earliest_ns": earliest_ns}
