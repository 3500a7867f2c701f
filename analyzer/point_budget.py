"""How finely grading reads a session's metric points: every point, or one per step.

A day of 100 processes at 1 Hz is ~276 million points, more than fits in memory once loaded
(docs/performance.md, "The full simulated day"). A session whose graded part holds more
points than ``[points] max_graded`` (control_points.toml) is read as a sampler with a longer
interval would have recorded it (sql/grading_points.sql): per series and step the last
point, the mean of gauges measured over the sampling interval, the sum of DELTA sums. Every
verdict is then that of the same session sampled every step, which grading already handles
at any interval (docs/grading.md, "Long sessions").
"""

from __future__ import annotations

from typing import Any

from swarmscope import conventions as C

from . import db
from .units import NS

# The steps a budget rounds up to, in seconds: a report says "one point per 15 s", not 13.8.
STEPS_S = (2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
# Gauges a sampler measures over its interval (CPU time used / time passed): a longer
# interval's value is their mean, not the last one.
AVERAGED = [C.PROCESS_CPU_UTILIZATION]


def point_steps(con: Any, session_ids: list[str], from_ns: list[int | None],
                earliest_ns: int | None, metrics: list[str],
                max_points: int) -> list[int | None]:
    """Per session (same order), the step in ns to read its points at, or None for every
    point: the shortest step of STEPS_S at which its series fit ``max_points``."""
    counts = {row[0]: row[1:] for row in con.execute(db.load_sql("grading_points_count"), {
        "sessions": session_ids, "metrics": metrics, "from_ns": from_ns,
        "earliest_ns": earliest_ns}).fetchall()}
    return [step_for(*counts.get(sid, (0, 0, 0)), max_points) for sid in session_ids]


def step_for(points: int, series: int, span_ns: int, max_points: int) -> int | None:
    """The step (ns) at which ``series`` series over ``span_ns`` hold at most ``max_points``
    points (None: the ``points`` there are fit already)."""
    if points <= max_points:
        return None
    for step_s in STEPS_S:
        if series * (span_ns / (step_s * NS) + 1) <= max_points:
            return step_s * NS
    return STEPS_S[-1] * NS
