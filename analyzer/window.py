"""Grading a time window of a session, and one grade per window over time.

A session that lasts days is judged on its recent part (``report --since 1h``) or as a series
of grades (``report --window 10m``). Both restrict the data loaded for grading to a time range
and grade it like a whole session: metric samples, leftover and hung records outside the range
are dropped; agents are kept when their life overlaps it (an agent spawned before the window
and still running is part of it). Relative times count back from the session's last record,
not from the clock, so a report of last week's session still means its last hour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from .results import SessionGrade
from .session_data import NS, SessionData

MAX_WINDOWS = 1000  # grades per report at most: a day in 10 minute windows is 144
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class WindowError(ValueError):
    """A window or time the user gave cannot be used; the message says what is accepted."""


@dataclass(frozen=True)
class WindowGrade:
    """The grade of one window: ``dimensions`` maps a dimension to (grade, score)."""

    start_ns: int
    end_ns: int
    score: float | None
    grade: str
    assessment: str
    dimensions: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)  # "agent (metric)" of flagged series
    samples: int = 0  # metric samples graded in the window


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``10m``, ``1h``, ``2d`` (a number and one unit); WindowError else."""
    match = _DURATION.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise WindowError(f"{text!r} is not a duration: use a number and a unit, "
                          "e.g. 30s, 10m, 1h or 2d")
    return float(match.group(1)) * _UNIT_S[match.group(2).lower()]


def since_ns(text: str, session_end_ns: int) -> int:
    """The start of ``--since``: a duration before the session's end, or an ISO 8601 time
    (UTC unless it names its offset)."""
    if _DURATION.match(text or ""):
        return session_end_ns - int(parse_duration(text) * NS)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WindowError(f"--since {text!r} is neither a duration (30s, 10m, 1h, 2d) nor an "
                          "ISO time (2026-12-01T10:00:00+00:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1e6) * 1000


def restrict(data: SessionData, start_ns: int, end_ns: int) -> SessionData:
    """The part of ``data`` between ``start_ns`` and ``end_ns`` (both included)."""
    def inside(ts: int | None) -> bool:
        return ts is None or start_ns <= ts <= end_ns

    metrics = {name: s.where((s.ts >= start_ns) & (s.ts <= end_ns))
               for name, s in data.metrics.items()}
    agents = [a for a in data.agents
              if (a.spawn_ns is None or a.spawn_ns <= end_ns)
              and (a.terminate_ns is None or a.terminate_ns >= start_ns)]
    facts = {**data.facts, "start_ns": start_ns, "end_ns": end_ns,
             "duration_s": (end_ns - start_ns) / NS}
    return replace(data, agents=[replace(a) for a in agents], metrics=metrics,
                   cleanup=[c for c in data.cleanup if inside(c.ts_ns)],
                   hung=[h for h in data.hung if inside(h.ts_ns)], facts=facts)


def session_bounds(data: SessionData) -> tuple[int, int] | None:
    start, end = data.span_ns()
    return None if start is None or end is None else (int(start), int(end))


def grade_windows(data: SessionData, width_s: float,
                  grade: Callable[[SessionData], SessionGrade]) -> list[WindowGrade]:
    """One grade per ``width_s`` window from the session's start to its end."""
    bounds = session_bounds(data)
    if bounds is None:
        return []
    start, end = bounds
    width = int(width_s * NS)
    count = max(1, -(-(end - start) // width))
    if count > MAX_WINDOWS:
        raise WindowError(f"--window {width_s:g}s cuts this session into {count} windows; "
                          f"at most {MAX_WINDOWS}: choose a wider window")
    out = []
    for k in range(count):
        lo = start + k * width
        hi = min(end, lo + width - 1) if k < count - 1 else end
        part = restrict(data, lo, hi)
        out.append(_summary(grade(part), lo, hi, part))
    return out


def _summary(g: SessionGrade, lo: int, hi: int, part: SessionData) -> WindowGrade:
    leaks = [f"{lk.agent_name or lk.agent_id or f'pid {lk.pid}'} ({lk.metric})"
             for name in ("memory", "processes") if name in g.dimensions
             for lk in g.dimensions[name].leaks]
    return WindowGrade(
        start_ns=lo, end_ns=hi, score=g.score, grade=g.grade, assessment=g.assessment,
        dimensions={n: (d.grade, d.score) for n, d in g.dimensions.items()}, leaks=leaks,
        samples=int(sum(len(s) for s in part.metrics.values())))


def apply(data: SessionData, since: str | None, window: str | None,
          grade: Callable[[SessionData], SessionGrade]) -> SessionGrade:
    """Grade ``data`` from ``since`` on (None: all of it), with a grade per ``window``."""
    width = parse_duration(window) if window else None  # a bad window fails before any work
    if since:
        bounds = session_bounds(data)
        if bounds is not None:
            data = restrict(data, max(bounds[0], since_ns(since, bounds[1])), bounds[1])
            if not any(len(s) for s in data.metrics.values()) and not data.agents:
                raise WindowError(f"--since {since}: the session has no data in that window")
    graded = grade(data)
    if width is not None:
        graded.windows = grade_windows(data, width, grade)
    return graded


def window_rows(g: SessionGrade) -> list[WindowGrade]:
    """The per-window grades of a report (empty without ``--window``)."""
    return list(getattr(g, "windows", None) or [])


def offsets_s(g: SessionGrade) -> np.ndarray:
    """Each window's start in seconds since the graded range's start (for charts)."""
    rows = window_rows(g)
    t0 = g.start_ns or (rows[0].start_ns if rows else 0)
    return np.array([(w.start_ns - t0) / NS for w in rows], dtype=float)
