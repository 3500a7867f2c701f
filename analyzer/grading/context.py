"""What every dimension grader shares: the session being graded and the helpers over it.

Each grader turns a ``SessionData`` (plus its timeline and phases) into raw figures, scores
them through the configured control points and writes findings that name the agents
involved. A figure without data is listed as not measured and left out of the weighted mean
- never given a made-up score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..config import GradingConfig
from ..leaks import TrendResult, analyse_with
from ..results import DimensionGrade, FigureScore, Finding, Leak, Severity, Verdict
from ..scoring import assessment_word, letter_grade, weighted_mean
from ..session_data import NS, Samples, SessionData
from ..timeline import Phases, Timeline
from ..units import MIB, mib, pct
from .population import Population, build_population

__all__ = ["MIB", "Context", "Values", "mib", "pct"]
# figure key -> (value, how the report shows it); None or absent: not measured
Values = dict[str, tuple[float, str] | None]


@dataclass
class Context:
    data: SessionData
    cfg: GradingConfig
    tl: Timeline
    ph: Phases
    trends: dict[tuple[str, int], TrendResult | None] = field(default_factory=dict)
    pop: Population | None = None

    @property
    def population(self) -> Population:
        """Lifetimes, parents and roles of the session's processes (built once)."""
        if self.pop is None:
            self.pop = build_population(
                self.data, self.threshold("processes", "long_lived_seconds"))
        return self.pop

    def trend(self, kind: str, metric: str, agent_id: str | None, pid: int,
              s: Samples) -> TrendResult | None:
        """Leak statistics of one process series after warm-up (computed once)."""
        key = (metric, pid)
        if key not in self.trends:
            s = steady(self, agent_id, s)
            self.trends[key] = analyse_with(self.cfg.leaks, kind, seconds(s.ts), s.value)
        return self.trends[key]

    def agent_name(self, agent_id: str | None) -> str | None:
        if agent_id is None:
            return None
        agent = self.data.agent_by_id().get(agent_id)
        return agent.name if agent else agent_id

    def who(self, agent_id: str | None, pid: int | None) -> str:
        """How a finding names a process: agent name and pid, or the orchestrator."""
        name = self.agent_name(agent_id)
        pid_text = f"pid {pid}" if pid is not None and pid >= 0 else "pid unknown"
        return f"agent {name} ({pid_text})" if name else f"session process ({pid_text})"

    def short(self, agent_id: str | None, pid: int | None) -> str:
        """A process named inside a figure's value: ``name, pid N``."""
        name = self.agent_name(agent_id) or "session process"
        return f"{name}, pid {pid}" if pid is not None and pid >= 0 else name

    def threshold(self, dimension: str, key: str) -> float:
        return self.cfg.threshold(dimension, key)

    @property
    def cores(self) -> int:
        return self.data.cpu_count or 1


def steady(ctx: Context, agent_id: str | None, s: Samples) -> Samples:
    """An agent's samples from its first task on: start-up is not steady state."""
    agent = ctx.data.agent_by_id().get(agent_id) if agent_id else None
    if agent is None or agent.first_task_ns is None:
        return s
    later = s.where(s.ts >= agent.first_task_ns)
    return later if len(later) >= 3 else s


def agent_series(samples: Samples) -> list[tuple[str | None, int, Samples]]:
    """(agent id, pid, points) for every process series of one metric."""
    out = []
    for pid, s in samples.by_pid().items():
        agents = [a for a in s.agent if a is not None]
        out.append((agents[-1] if agents else None, pid, s))
    return out


def seconds(ts: np.ndarray) -> np.ndarray:
    """Nanosecond timestamps as seconds since the first."""
    return (ts - ts[0]) / NS if len(ts) else ts.astype(float)


def counter_rate(s: Samples) -> tuple[float, float] | None:
    """(increase, seconds) of a counter over its samples (sum over keys)."""
    if len(s) < 2:
        return None
    increase = 0.0
    for key in set(s.key.tolist()):
        k = s.with_key(key)
        increase += float(k.value.sum() if not k.cumulative else k.value[-1] - k.value[0])
    span = (int(s.ts.max()) - int(s.ts.min())) / NS
    return (increase, span) if span > 0 else None


def per_second(s: Samples) -> float | None:
    """A counter's mean increase per second, None without two samples."""
    r = counter_rate(s)
    return r[0] / r[1] if r else None


def dimension(ctx: Context, name: str, values: Values, findings: list[Finding],
              **extra: object) -> DimensionGrade:
    """Score the measured figures of dimension ``name`` and wrap up its grade."""
    figures, missing = [], []
    for key, spec in ctx.cfg.figures[name].items():
        measured = values.get(key)
        if measured is None:
            missing.append(spec.description or key)
            continue
        value, display = measured
        figures.append(FigureScore(key, spec.description or key, float(value), display,
                                   round(spec.score(max(float(value), 0.0)), 1), spec.weight))
    score = weighted_mean([(f.score, f.weight) for f in figures])
    if score is not None and any(f.severity == Severity.CRITICAL for f in findings):
        # a leak, orphan or zombie is never "good", however clean the rest looks
        score = min(score, ctx.cfg.critical_cap)
    score = None if score is None else round(score, 1)
    return DimensionGrade(
        name=name, score=score, grade=letter_grade(score, ctx.cfg.bands),
        assessment=assessment_word(score, ctx.cfg.assessment), figures=figures,
        findings=findings, not_measured=missing, **extra)  # type: ignore[arg-type]


def leak_findings(ctx: Context, metric: str, kind: str, label: str, findings: list[Finding],
                  unit: Callable[[float], str],
                  verdict: Verdict) -> tuple[list[Leak], int]:
    """Leak verdicts for every agent series of ``metric``; returns leaks and series tested."""
    leaks, tested = [], 0
    for agent_id, pid, s in agent_series(ctx.data.samples(metric)):
        res = ctx.trend(kind, metric, agent_id, pid, s)
        if res is None:
            continue
        tested += 1
        if not res.leak:
            continue
        name = ctx.agent_name(agent_id)
        leaks.append(Leak(agent_id, name, pid if pid >= 0 else None, metric, res.slope,
                          res.p_value, res.relative_growth, res.level, res.samples))
        findings.append(Finding(
            text=f"{ctx.who(agent_id, pid)}: {label} grows steadily by {unit(res.slope)}/s "
            f"(+{res.relative_growth * 100:.0f} % over the analysed window, Mann-Kendall "
            f"p = {res.p_value:.2g}) - a leak.",
            severity=Severity.CRITICAL, agent_id=agent_id, agent_name=name, metric=metric,
            kind=verdict,
            recommendation=f"Find what {name or 'this process'} keeps allocating: {label} "
            "should level off once its working set is built (check caches, unbounded lists, "
            "unclosed handles)."))
    return leaks, tested


def leak_figure(values: Values, findings: list[Finding], leaks: list[Leak], tested: int,
                what: str, series: str) -> None:
    """The ``leaks`` figure (leaks among the ``tested`` series) and, with none, a good finding
    that none of the agents' ``series`` series has ``what``; nothing when none was tested."""
    if not tested:
        return
    values["leaks"] = (len(leaks), f"{len(leaks)} of {tested} series")
    if not leaks:
        findings.append(Finding(
            text=f"No {what}: none of {tested} agent {series} series grows with a significant, "
            "material trend.", severity=Severity.GOOD))


def released_share(tl: Timeline, ph: Phases, arr: np.ndarray,
                   kind: str) -> tuple[float, float, float, float] | None:
    """(baseline, peak, post, unreleased share) of a session total, if post was observed."""
    if ph.post_termination is None or np.all(np.isnan(arr)):
        return None
    base = tl.at(ph.baseline, tl.own[kind] if ph.baseline_estimated else arr)
    post = tl.at(ph.post_termination, arr)
    peak = float(np.nanmax(arr))
    if base is None or post is None:
        return None
    rise = peak - base
    unreleased = 0.0 if rise <= 0 else min(max((post - base) / rise, 0.0), 1.0)
    return base, peak, post, unreleased


def released_finding(ctx: Context, values: Values, findings: list[Finding], arr: np.ndarray,
                     kind: str, figure: str, threshold: tuple[str, str], metric: str,
                     verdict: Verdict, text: Callable[[float, float, float, float], str],
                     recommendation: str) -> None:
    """Grade how much of a session total was released after termination.

    ``text(base, peak, post, released)`` words the finding; ``released`` is the share
    (0..1) of the increase given back. Below ``threshold`` unreleased the finding is good,
    otherwise a warning with ``verdict`` and ``recommendation``.
    """
    rel = released_share(ctx.tl, ctx.ph, arr, kind)
    if not rel:
        return
    base, peak, post, unreleased = rel
    values[figure] = (unreleased, pct(unreleased))
    ok = unreleased < ctx.threshold(*threshold)
    findings.append(Finding(
        text=text(base, peak, post, 1 - unreleased),
        severity=Severity.GOOD if ok else Severity.WARNING, metric=metric,
        kind=None if ok else verdict, recommendation=None if ok else recommendation))
