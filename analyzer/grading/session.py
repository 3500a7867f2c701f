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
from ..timeline import build_timeline, compute_phases, phase_notes, timeline_rows
from .cleanup import grade_cleanup
from .context import MIB, Context
from .cpu import agent_cpu, grade_cpu
from .gc import grade_gc
from .inproc import inproc_summaries
from .memory import grade_memory
from .population import Life, Population, build_population, helper_groups
from .processes import grade_processes
from .tree import process_tree

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
    pop = build_population(data, cfg.threshold("processes", "long_lived_seconds"))
    managed = [life.agent for life in pop.agents()]
    ph = compute_phases(data, tl, cfg.settle_seconds, managed, pop.shape)
    ctx = Context(data, cfg, tl, ph, pop=pop)
    dims = {name: GRADERS[name](ctx) for name in DIMENSIONS}
    overall = weighted_mean([(g.score, cfg.dimension_weights[n]) for n, g in dims.items()
                             if g.score is not None])
    overall = None if overall is None else round(overall, 1)
    not_measured = [f"{n}: not measured (no data)" for n, g in dims.items() if g.score is None]
    start, end = data.span_ns()
    return SessionGrade(
        session=data.session_id, score=overall, grade=letter_grade(overall, cfg.bands),
        assessment=assessment_word(overall, cfg.assessment), dimensions=dims,
        phases=timeline_rows(data, tl, ph, managed),
        agents=_agent_summaries(ctx) + inproc_summaries(ctx),
        environment=_environment(data), configuration=_configuration(data, pop),
        not_measured=not_measured, series=_chart_series(ctx, start), start_ns=start,
        end_ns=end, config_source=cfg.source, shape=pop.shape,
        phase_notes=phase_notes(tl, ph), population=_population_summary(pop),
        tree=process_tree(pop, dims["cleanup"],
                          int(cfg.threshold("processes", "tree_group_min"))),
        session_helpers=helper_groups(pop.helpers_of(None)))


def _population_summary(pop: Population) -> dict[str, object]:
    """Long-lived and short-lived agents summed up apart (the split is a control point)."""
    def summary(lives: list[Life]) -> dict[str, object]:
        secs = [x.seconds for x in lives if x.seconds is not None]
        return {"count": len(lives), "names": sorted({x.agent.name for x in lives}),
                "min_seconds": min(secs) if secs else None,
                "max_seconds": max(secs) if secs else None,
                "running_at_end": sum(1 for x in lives if x.running),
                "nonzero_exits": sum(1 for x in lives if x.agent.exit_code not in (None, 0))}

    agents = pop.agents()
    return {"split_seconds": pop.long_lived_s,
            "long_lived": summary([x for x in agents if x.long_lived]),
            "short_lived": summary([x for x in agents if not x.long_lived]),
            "helpers": len(pop.lives) - len(agents)}


def _agent_summaries(ctx: Context) -> list[AgentSummary]:
    d = ctx.data
    pop = ctx.population
    cpu = {a: c for c, a, _, _ in agent_cpu(ctx) if a is not None}
    out = []
    for life in pop.agents():
        a = life.agent

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
            peak_threads=peak(C.PROCESS_THREAD_COUNT), role=a.role or "agent",
            parent_pid=a.parent_pid, started_by=ctx.agent_name(life.owner),
            start_s=pop.offset(life.start_ns), lifetime_s=life.seconds, ended=life.ended(),
            long_lived=life.long_lived, helpers=helper_groups(pop.helpers_of(a.agent_id))))
    return out


def _environment(d: SessionData) -> dict[str, object]:
    f = d.facts
    return {k: f.get(k) for k in ("host_name", "os_type", "cpu_count", "memory_total",
                                  "runtime_name", "runtime_version", "service_name")
            if f.get(k) is not None}


def _configuration(d: SessionData, pop: Population) -> dict[str, object]:
    f = d.facts
    conf = {k: f.get(k) for k in ("topology", "strategy", "max_agents", "persistence")
            if f.get(k) is not None}
    conf["agents"] = len(pop.agents())
    if d.inproc:
        conf["inproc_agents"] = len(d.inproc)
    if len(pop.lives) > len(pop.agents()):
        conf["helper_processes"] = len(pop.lives) - len(pop.agents())
    for k in ("duration_s", "span_count", "metric_point_count"):
        if f.get(k) is not None:
            conf[k] = f[k]
    if d.point_step_ns is not None:  # over the point budget ([points] in control_points.toml)
        conf["graded_point_step_s"] = d.point_step_ns / NS
    return conf


def _chart_series(ctx: Context, start: int | None) -> dict[str, object]:
    tl = ctx.tl
    t0 = start or (int(tl.ts[0]) if len(tl.ts) else 0)

    def clean(arr: np.ndarray, scale: float = 1.0) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v) / scale, 4) for v in arr]

    markers = []
    for a in (life.agent for life in ctx.population.agents()):  # helpers would be noise
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
