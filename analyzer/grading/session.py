"""Grading a whole session: every dimension, the overall grade, and what reports show
beside the grades (agent summaries, environment, configuration, chart series)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from swarmscope import conventions as C

from ..config import DIMENSIONS, GradingConfig
from ..results import AgentSummary, DimensionGrade, SessionGrade
from ..scoring import assessment_word, letter_grade, weighted_mean
from ..session_data import NS, SessionData, attribute_points
from ..timeline import build_timeline, compute_phases, timeline_rows
from .cleanup import grade_cleanup
from .context import MIB, Context
from .cpu import agent_cpu, grade_cpu
from .gc import grade_gc
from .memory import grade_memory
from .processes import grade_processes

GRADERS: dict[str, Callable[[Context], DimensionGrade]] = {
    "memory": grade_memory,
    "cpu": grade_cpu,
    "processes": grade_processes,
    "gc": grade_gc,
    "cleanup": grade_cleanup,
}


def grade_session(data: SessionData, cfg: GradingConfig) -> SessionGrade:
    """Grade one session on every dimension."""
    attribute_points(data)
    tl = build_timeline(data)
    ph = compute_phases(data, tl, cfg.settle_seconds)
    ctx = Context(data, cfg, tl, ph)
    dims = {name: GRADERS[name](ctx) for name in DIMENSIONS}
    overall = weighted_mean([(g.score, cfg.dimension_weights[n]) for n, g in dims.items()
                             if g.score is not None])
    overall = None if overall is None else round(overall, 1)
    not_measured = [f"{n}: not measured (no data)" for n, g in dims.items() if g.score is None]
    start, end = data.span_ns()
    return SessionGrade(
        session=data.session_id, score=overall, grade=letter_grade(overall, cfg.bands),
        assessment=assessment_word(overall, cfg.assessment), dimensions=dims,
        phases=timeline_rows(data, tl, ph), agents=_agent_summaries(ctx),
        environment=_environment(data), configuration=_configuration(data),
        not_measured=not_measured, series=_chart_series(ctx, start), start_ns=start,
        end_ns=end, config_source=cfg.source)


def _agent_summaries(ctx: Context) -> list[AgentSummary]:
    d = ctx.data
    cpu = {a: c for c, a, _, _ in agent_cpu(ctx) if a is not None}
    out = []
    for a in d.agents:
        def peak(metric: str, agent_id: str = a.agent_id) -> float | None:
            s = d.samples(metric)
            v = s.value[s.agent == agent_id]
            return float(v.max()) if len(v) else None

        rss = d.samples(C.PROCESS_MEMORY_USAGE)
        own = rss.where(rss.pid == (a.pid if a.pid is not None else -2))
        res = (ctx.trend("rss", C.PROCESS_MEMORY_USAGE, a.agent_id, int(a.pid), own)
               if len(own) and a.pid is not None else None)
        out.append(AgentSummary(
            a.agent_id, a.name, a.pid, a.kind, a.spawn_ns, a.terminate_ns, a.exit_code, a.reason,
            peak_rss=peak(C.PROCESS_MEMORY_USAGE), rss_growth=res.relative_growth if res else None,
            cpu_cores=cpu.get(a.agent_id), peak_fds=peak(C.PROCESS_FD_COUNT),
            peak_threads=peak(C.PROCESS_THREAD_COUNT)))
    return out


def _environment(d: SessionData) -> dict[str, object]:
    f = d.facts
    return {k: f.get(k) for k in ("host_name", "os_type", "cpu_count", "memory_total",
                                  "runtime_name", "runtime_version", "service_name")
            if f.get(k) is not None}


def _configuration(d: SessionData) -> dict[str, object]:
    f = d.facts
    conf = {k: f.get(k) for k in ("topology", "strategy", "max_agents", "persistence")
            if f.get(k) is not None}
    conf["agents"] = len(d.agents)
    for k in ("duration_s", "span_count", "metric_point_count"):
        if f.get(k) is not None:
            conf[k] = f[k]
    return conf


def _chart_series(ctx: Context, start: int | None) -> dict[str, object]:
    tl = ctx.tl
    t0 = start or (int(tl.ts[0]) if len(tl.ts) else 0)

    def clean(arr: np.ndarray, scale: float = 1.0) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v) / scale, 4) for v in arr]

    markers = []
    for a in ctx.data.agents:
        for kind, ts in (("spawn", a.spawn_ns), ("terminate", a.terminate_ns)):
            if ts:
                markers.append({"t": round((ts - t0) / NS, 3), "kind": kind, "agent": a.name})
    return {
        "t": [round((int(t) - t0) / NS, 3) for t in tl.ts],
        "memory_mib": clean(tl.session_rss, MIB),
        "system_memory_mib": clean(tl.system_memory, MIB),
        "cpu_cores": clean(tl.session_cpu_cores),
        "load_per_core": clean(tl.load_per_core),
        "fds": clean(tl.session_fds),
        "processes": clean(tl.process_count),
        "markers": markers,
    }
