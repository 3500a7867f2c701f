"""The five graded dimensions: memory, cpu, processes & handles, gc, cleanup.

Each grader turns a ``SessionData`` (plus its timeline and phases) into raw figures, scores
them through the configured control points and writes findings that name the agents
involved. A figure without data is listed as not measured and left out of the weighted mean
- never given a made-up score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from swarmscope import conventions as C

from .leaks import TrendResult, analyse_with
from .phases import (
    NS,
    Phases,
    Samples,
    SessionData,
    Timeline,
    attribute_points,
    build_timeline,
    compute_phases,
)
from .phases import timeline_rows as _timeline_rows
from .scoring import (
    DIMENSIONS,
    AgentSummary,
    DimensionGrade,
    FigureScore,
    Finding,
    GradingConfig,
    Leak,
    LeftoverProcess,
    SessionGrade,
    assessment_word,
    letter_grade,
    weighted_mean,
)

MIB = 1024 * 1024


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MIB:,.1f} MiB"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


@dataclass
class Context:
    data: SessionData
    cfg: GradingConfig
    tl: Timeline
    ph: Phases
    trends: dict[tuple[str, int], TrendResult | None] = field(default_factory=dict)

    def trend(self, kind: str, metric: str, agent_id: str | None, pid: int,
              s: Samples) -> TrendResult | None:
        """Leak statistics of one process series after warm-up (computed once)."""
        key = (metric, pid)
        if key not in self.trends:
            s = steady(self, agent_id, s)
            self.trends[key] = analyse_with(self.cfg.leaks, kind, _seconds(s.ts), s.value)
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


def _seconds(ts: np.ndarray) -> np.ndarray:
    return (ts - ts[0]) / NS if len(ts) else ts.astype(float)


def _dimension(ctx: Context, name: str, values: dict[str, tuple[float, str] | None],
               findings: list[Finding], **extra: object) -> DimensionGrade:
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
    if score is not None and any(f.severity == "critical" for f in findings):
        # a leak, orphan or zombie is never "good", however clean the rest looks
        score = min(score, ctx.cfg.critical_cap)
    score = None if score is None else round(score, 1)
    return DimensionGrade(
        name=name, score=score, grade=letter_grade(score, ctx.cfg.bands),
        assessment=assessment_word(score, ctx.cfg.assessment), figures=figures,
        findings=findings, not_measured=missing, **extra)  # type: ignore[arg-type]


def _leaks(ctx: Context, metric: str, kind: str, label: str,
           findings: list[Finding], unit: Callable[[float], str]) -> tuple[list[Leak], int]:
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
            f"{ctx.who(agent_id, pid)}: {label} grows steadily by {unit(res.slope)}/s "
            f"(+{res.relative_growth * 100:.0f} % over the analysed window, Mann-Kendall "
            f"p = {res.p_value:.2g}) - a leak.",
            "critical", agent_id, name, metric,
            f"Find what {name or 'this process'} keeps allocating: {label} should level off "
            "once its working set is built (check caches, unbounded lists, unclosed handles)."))
    return leaks, tested


def _released_share(tl: Timeline, ph: Phases, arr: np.ndarray,
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


# --- memory ----------------------------------------------------------------------------------


def grade_memory(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: dict[str, tuple[float, str] | None] = {}
    leaks, tested = _leaks(ctx, C.PROCESS_MEMORY_USAGE, "rss", "RSS", findings, mib)
    heap_leaks, heap_tested = _leaks(ctx, C.HEAP_ALLOCATED_BLOCKS, "heap", "heap (allocated "
                                     "blocks)", findings, lambda v: f"{v:,.0f} blocks")
    leaks += heap_leaks
    if tested + heap_tested:
        values["leaks"] = (len(leaks), f"{len(leaks)} of {tested + heap_tested} series")
        if not leaks:
            findings.append(Finding(f"No leak: none of {tested + heap_tested} agent RSS/heap "
                                    "series grows with a significant, material trend.", "good"))
    growth = []
    for agent_id, pid, s in agent_series(ctx.data.samples(C.PROCESS_MEMORY_USAGE)):
        res = ctx.trend("rss", C.PROCESS_MEMORY_USAGE, agent_id, pid, s)
        if res is not None and agent_id is not None:
            growth.append((max(res.relative_growth, 0.0), agent_id, pid))
    if growth:
        g, agent_id, pid = max(growth)
        values["agent_rss_growth"] = (g, f"{g * 100:.1f} % ({ctx.agent_name(agent_id)})")
    tl, ph = ctx.tl, ctx.ph
    rel = _released_share(tl, ph, tl.session_rss, "rss")
    if rel:
        base, peak, post, unreleased = rel
        values["unreleased"] = (unreleased, pct(unreleased))
        released = 1 - unreleased
        findings.append(Finding(
            f"Session memory: {mib(base)} at baseline, peak {mib(peak)}, {mib(post)} after "
            f"termination - {released * 100:.0f} % of the increase released.",
            "good" if unreleased < 0.1 else "warning", metric=C.PROCESS_MEMORY_USAGE,
            recommendation=None if unreleased < 0.1 else
            "Memory stays high after the agents stopped: check for processes left running "
            "and for caches the orchestrator keeps per agent."))
    util = ctx.data.samples(C.SYSTEM_MEMORY_UTILIZATION).with_key(str(C.SystemMemoryState.USED))
    total = ctx.data.facts.get("memory_total")
    if len(util):
        peak_util = float(np.max(util.value))
    elif total and not np.all(np.isnan(tl.system_memory)):
        peak_util = float(np.nanmax(tl.system_memory)) / float(total)
    else:
        peak_util = None
    if peak_util is not None:
        values["system_peak"] = (peak_util, pct(peak_util))
        high = peak_util >= 0.85
        findings.append(Finding(
            f"System memory peaked at {pct(peak_util)} of the host"
            + (" - above the 85 % alert line." if high else "."),
            "warning" if high else "info", metric=C.SYSTEM_MEMORY_UTILIZATION,
            recommendation="Lower the number of concurrent agents or give the host more "
            "memory: the system ran above 85 % memory." if high else None))
    return _dimension(ctx, "memory", values, findings, leaks=leaks)


# --- cpu -------------------------------------------------------------------------------------


def _agent_cpu(ctx: Context) -> list[tuple[float, str | None, int, Samples]]:
    """(median cores after warm-up, agent, pid, samples) per process."""
    util = ctx.data.samples(C.PROCESS_CPU_UTILIZATION)
    out = []
    if len(util):
        for agent_id, pid, s in agent_series(util):
            s = steady(ctx, agent_id, s)
            skip = int(len(s) * ctx.cfg.leaks["warmup_fraction"])
            rest = s.value[skip:]
            if len(rest):
                out.append((float(np.median(rest)) * ctx.cores, agent_id, pid, s))
        return out
    cpu_time = ctx.data.samples(C.PROCESS_CPU_TIME)  # cumulative seconds per mode
    for agent_id, pid, s in agent_series(cpu_time):
        ts = np.unique(s.ts)
        if len(ts) < 3:
            continue
        total = np.array([s.value[s.ts == t].sum() for t in ts])
        rate = np.diff(total) / (np.diff(ts) / NS)
        skip = int(len(rate) * ctx.cfg.leaks["warmup_fraction"])
        out.append((float(np.median(rate[skip:])), agent_id, pid, s))
    return out


def grade_cpu(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: dict[str, tuple[float, str] | None] = {}
    cores = ctx.cores
    if not ctx.data.cpu_count:
        findings.append(Finding("Host CPU count unknown: load averages are read as per-host, "
                                "not per core."))
    load = ctx.data.samples(C.SYSTEM_LOAD_1M)
    if len(load):
        per_core = load.value / cores
        peak = float(per_core.max())
        values["load_peak_per_core"] = (peak, f"{peak:.2f} per core")
        ph = ctx.ph
        lo = ph.first_spawn_ns or int(load.ts[0])
        hi = ph.last_terminate_ns or int(load.ts[-1])
        active = per_core[(load.ts >= lo) & (load.ts <= hi)]
        sustained = float(active.mean()) if len(active) else float(per_core.mean())
        values["load_sustained_per_core"] = (sustained, f"{sustained:.2f} per core")
        sev = "critical" if peak > 2 else "warning" if peak > 1 else "good"
        findings.append(Finding(
            f"Load average (1 min) peaked at {peak:.2f} per core on {cores} core(s); "
            f"{sustained:.2f} per core while agents were active.", sev, metric=C.SYSTEM_LOAD_1M,
            recommendation=None if sev == "good" else
            "The host ran more runnable work than it has cores: cap concurrent agents "
            f"(about {cores} busy agents fit) or spread them over time."))
    per_agent = [x for x in _agent_cpu(ctx) if x[1] is not None]
    if per_agent:
        cores_used, agent_id, pid, _ = max(per_agent, key=lambda x: x[0])
        values["agent_cpu_max"] = (cores_used, f"{cores_used:.2f} cores "
                                               f"({ctx.agent_name(agent_id)})")
        spec = ctx.cfg.figure("cpu", "agent_cpu_max")
        busy = []
        for used, a_id, a_pid, _ in sorted(per_agent, key=lambda x: -x[0]):
            waits = _voluntary_switch_rate(ctx, a_id, a_pid)
            # Spinning: busy and (nearly) never blocking. Under contention a spinner gets
            # less than a core, but it still never gives the CPU up voluntarily.
            spinning = used >= spec.p10 and waits is not None and waits < 1.0
            if used >= spec.median * 0.8 or spinning:
                busy.append(a_id)
                how = (f", and gives the CPU up voluntarily {waits:.1f} times/s" if waits
                       is not None else "")
                findings.append(Finding(
                    f"{ctx.who(a_id, a_pid)} keeps {used:.2f} cores busy (median after "
                    f"warm-up){how} - it spins rather than waits.", "warning", a_id,
                    ctx.agent_name(a_id), C.PROCESS_CPU_UTILIZATION,
                    f"Make {ctx.agent_name(a_id)} block on its work queue or sleep between "
                    "polls instead of busy-looping."))
        if not busy:
            findings.append(Finding(
                f"Every agent idles between tasks: the busiest, {ctx.agent_name(agent_id)}, "
                f"uses {cores_used:.2f} cores.", "good"))
        findings.extend(_spawn_spikes(ctx))
    return _dimension(ctx, "cpu", values, findings)


def _voluntary_switch_rate(ctx: Context, agent_id: str | None, pid: int) -> float | None:
    """Voluntary context switches per second after warm-up (how often the process waits)."""
    switches = ctx.data.samples(C.PROCESS_CONTEXT_SWITCHES)
    s = switches.where((switches.pid == pid)
                       & (switches.key == str(C.ContextSwitchType.VOLUNTARY)))
    s = steady(ctx, agent_id, s)
    r = _rate(s)
    return r[0] / r[1] if r else None


def _spawn_spikes(ctx: Context) -> list[Finding]:
    """Agents whose CPU at start-up (imports) is far above their steady state."""
    util = ctx.data.samples(C.PROCESS_CPU_UTILIZATION)
    spikes = []
    for a in ctx.data.agents:
        if a.pid is None or a.spawn_ns is None:
            continue
        s = util.where(util.pid == a.pid)
        if len(s) < 4:
            continue
        early = s.value[s.ts <= a.spawn_ns + 2 * NS]
        if len(early) and early.max() * ctx.cores >= 0.5:
            spikes.append(f"{a.name} {early.max() * ctx.cores:.2f}")
    if not spikes:
        return []
    return [Finding("CPU spikes at spawn (cores, first 2 s): " + ", ".join(spikes) + ".",
                    "info", metric=C.PROCESS_CPU_UTILIZATION)]


# --- processes & handles ---------------------------------------------------------------------


def grade_processes(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: dict[str, tuple[float, str] | None] = {}
    leaks, tested = _leaks(ctx, C.PROCESS_FD_COUNT, "fds", "open file descriptors", findings,
                           lambda v: f"{v:.2f} FDs")
    t_leaks, t_tested = _leaks(ctx, C.PROCESS_THREAD_COUNT, "threads", "thread count",
                               findings, lambda v: f"{v:.2f} threads")
    leaks += t_leaks
    if tested + t_tested:
        values["leaks"] = (len(leaks), f"{len(leaks)} of {tested + t_tested} series")
        if not leaks:
            findings.append(Finding(f"No handle leak: none of {tested + t_tested} agent FD/thread "
                                    "series grows with a significant, material trend.", "good"))
    tl, ph = ctx.tl, ctx.ph
    rel = _released_share(tl, ph, tl.session_fds, "fds")
    if rel:
        base, peak, post, unreleased = rel
        values["fds_unreleased"] = (unreleased, pct(unreleased))
        findings.append(Finding(
            f"FDs: {base:.0f} at baseline, peak {peak:.0f}, {post:.0f} after termination - "
            f"cleanup efficiency {(1 - unreleased) * 100:.0f} %.",
            "good" if unreleased < 0.1 else "warning", metric=C.PROCESS_FD_COUNT,
            recommendation=None if unreleased < 0.1 else
            "File descriptors outlive the agents: close sockets, pipes and files in the "
            "agents' shutdown path and reap their children."))
    fds = ctx.data.samples(C.PROCESS_FD_COUNT)
    if len(fds):
        i = int(np.argmax(fds.value))
        who = ctx.short(fds.agent[i], int(fds.pid[i]))
        values["peak_process_fds"] = (float(fds.value[i]), f"{fds.value[i]:.0f} ({who})")
    threads = ctx.data.samples(C.PROCESS_THREAD_COUNT)
    if len(threads):
        i = int(np.argmax(threads.value))
        who = ctx.short(threads.agent[i], int(threads.pid[i]))
        values["peak_process_threads"] = (float(threads.value[i]),
                                          f"{threads.value[i]:.0f} ({who})")
    if not np.all(np.isnan(tl.process_count)) and len(tl.process_count):
        rss = ctx.data.samples(C.PROCESS_MEMORY_USAGE)
        descendants = {}
        for a in ctx.data.agents:
            pids = set(rss.pid[rss.agent == a.agent_id].tolist()) - {a.pid, -1}
            if pids:
                descendants[a.name] = len(pids)
        text = (f"Session processes: peak {np.nanmax(tl.process_count):.0f} at once "
                f"({len(ctx.data.agents)} agents)")
        if descendants:
            text += "; descendants: " + ", ".join(f"{n} {k}" for n, k in descendants.items())
        findings.append(Finding(text + ".", "info", metric=C.PROCESS_MEMORY_USAGE))
    return _dimension(ctx, "processes", values, findings, leaks=leaks)


# --- garbage collection ----------------------------------------------------------------------


def _rate(s: Samples) -> tuple[float, float] | None:
    """(increase, seconds) of a counter over its samples (sum over keys)."""
    if len(s) < 2:
        return None
    increase = 0.0
    for key in set(s.key.tolist()):
        k = s.with_key(key)
        increase += float(k.value.sum() if not k.cumulative else k.value[-1] - k.value[0])
    seconds = (int(s.ts.max()) - int(s.ts.min())) / NS
    return (increase, seconds) if seconds > 0 else None


def grade_gc(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: dict[str, tuple[float, str] | None] = {}
    d = ctx.data
    per_pid: dict[int, dict[str, float]] = {}
    owner: dict[int, str | None] = {}

    def note(metric: str, name: str, fn: Callable[[Samples], float | None]) -> None:
        for agent_id, pid, s in agent_series(d.samples(metric)):
            v = fn(steady(ctx, agent_id, s))
            if v is not None:
                per_pid.setdefault(pid, {})[name] = v
                owner[pid] = agent_id

    def rate(s: Samples) -> float | None:
        r = _rate(s)
        return r[0] / r[1] if r else None

    note(C.GC_PAUSE_DURATION, "time_share", rate)
    note(C.GC_COLLECTED_OBJECTS, "collected_rate", rate)
    gen2 = str(2)
    note(C.GC_COLLECTIONS, "full_per_min",
         lambda s: (r * 60 if (r := rate(s.with_key(gen2))) is not None else None))
    note(C.GC_UNCOLLECTABLE_OBJECTS, "uncollectable",
         lambda s: float(sum(s.with_key(k).value[-1] for k in set(s.key.tolist())))
         if len(s) else None)
    heap = {}
    for agent_id, pid, s in agent_series(d.samples(C.HEAP_ALLOCATED_BLOCKS)):
        res = ctx.trend("heap", C.HEAP_ALLOCATED_BLOCKS, agent_id, pid, s)
        if res is not None:
            heap[pid] = max(res.relative_growth, 0.0)
            owner[pid] = agent_id
    if not per_pid and not heap:
        findings.append(Finding("No CPython GC data: no process of this session reported its "
                                "own garbage collector (non-Python agents, or agents that do "
                                "not call swarmscope.init())."))
        return _dimension(ctx, "gc", values, findings)
    for fig, name, fmt in (
        ("time_share", "time_share", pct),
        ("collected_rate", "collected_rate", lambda v: f"{v:,.0f} objects/s"),
        ("full_collections_per_min", "full_per_min", lambda v: f"{v:.1f} /min"),
        ("uncollectable", "uncollectable", lambda v: f"{v:.0f}"),
    ):
        cands = [(m[name], pid) for pid, m in per_pid.items() if name in m]
        if not cands:
            continue
        v, pid = max(cands)
        values[fig] = (max(v, 0.0), f"{fmt(v)} ({ctx.short(owner[pid], pid)})")
        spec = ctx.cfg.figure("gc", fig)
        if spec.score(max(v, 0.0)) < ctx.cfg.assessment["good"]:
            findings.append(Finding(
                f"{ctx.who(owner[pid], pid)}: {spec.description} = {fmt(v)}.",
                "warning", owner[pid], ctx.agent_name(owner[pid]), None,
                _gc_advice(fig, ctx.agent_name(owner[pid]) or f"pid {pid}")))
    per_gen = _collections_per_generation(ctx)
    if per_gen:
        findings.append(Finding(
            f"Collections per second across the {per_gen[1]} reporting process(es): "
            + ", ".join(f"generation {gen} {rate:.1f}" for gen, rate in per_gen[0]) + ".",
            "info", metric=C.GC_COLLECTIONS))
    if heap:
        g, pid = max((v, p) for p, v in heap.items())
        values["heap_growth"] = (g, f"{g * 100:.1f} % ({ctx.short(owner[pid], pid)})")
    if not any(f.severity == "warning" for f in findings):
        share = values.get("time_share")
        findings.append(Finding(
            "Garbage collection is quiet" + (f": GC pauses take at most {share[1]} of wall time"
                                             if share else "") + ".", "good"))
    return _dimension(ctx, "gc", values, findings)


def _collections_per_generation(ctx: Context) -> tuple[list[tuple[str, float]], int] | None:
    """(generation, collections/s summed over processes) and how many processes reported."""
    rates: dict[str, float] = {}
    series = agent_series(ctx.data.samples(C.GC_COLLECTIONS))
    for agent_id, _, s in series:
        s = steady(ctx, agent_id, s)
        for gen in sorted({k for k in s.key.tolist() if k is not None}):
            r = _rate(s.with_key(gen))
            if r:
                rates[gen] = rates.get(gen, 0.0) + r[0] / r[1]
    return (sorted(rates.items()), len(series)) if rates else None


def _gc_advice(fig: str, who: str) -> str:
    return {
        "time_share": f"{who} spends a large share of its time in GC pauses: break reference "
                      "cycles (weakref, explicit close) or raise gc thresholds for its hot loop.",
        "collected_rate": f"{who} creates garbage cycles at a high rate: the cyclic collector, "
                          "not reference counting, frees its objects - break the cycles.",
        "full_collections_per_min": f"{who} triggers frequent full collections: reduce "
                                    "long-lived allocations or call gc.freeze() after start-up.",
        "uncollectable": f"{who} has uncollectable objects: look at gc.garbage for objects "
                         "whose finalizers keep cycles alive.",
    }.get(fig, "")


# --- cleanup ---------------------------------------------------------------------------------


def grade_cleanup(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: dict[str, tuple[float, str] | None] = {}
    d, tl, ph = ctx.data, ctx.tl, ctx.ph
    orphans: dict[int, LeftoverProcess] = {}
    zombies: dict[int, LeftoverProcess] = {}
    for rec in d.cleanup:
        target = orphans if rec.problem == "orphan" else zombies
        target.setdefault(rec.pid, LeftoverProcess(
            rec.pid, rec.command, rec.agent_id, ctx.agent_name(rec.agent_id), rec.parent_pid,
            rec.age_s, "audit"))
    settle_ns = int(ctx.cfg.settle_seconds * NS)
    agents = d.agent_by_id()
    rss = d.samples(C.PROCESS_MEMORY_USAGE)
    for agent_id, pid, s in agent_series(rss):
        a = agents.get(agent_id) if agent_id else None
        if a is None or a.terminate_ns is None or pid < 0 or pid in orphans or pid in zombies:
            continue
        late = s.ts[s.ts > a.terminate_ns + settle_ns]
        if len(late):
            orphans[pid] = LeftoverProcess(
                pid, None, agent_id, a.name, None,
                (int(late[-1]) - a.terminate_ns) / NS, "metrics")
    audited = bool(d.cleanup) or _has_audit(d)
    terminated = [a for a in d.agents if a.terminate_ns is not None]
    if audited or (terminated and len(rss)):
        values["orphans"] = (len(orphans), str(len(orphans)))
    if audited:
        values["zombies"] = (len(zombies), str(len(zombies)))
    for p in orphans.values():
        findings.append(Finding(
            f"Orphan: pid {p.pid}" + (f" ({p.command})" if p.command else "")
            + f" of agent {p.agent_name or p.agent or 'unknown'} was still alive after its agent "
            "terminated" + (" (seen in samples after the settle window)" if p.source == "metrics"
                           else "") + ".",
            "critical", p.agent, p.agent_name, None,
            f"Make {p.agent_name or 'the agent'} stop and reap its children before it exits, "
            "or run it in its own process group or cgroup and end that on terminate: "
            f"pid {p.pid} outlived it."))
    for p in zombies.values():
        findings.append(Finding(
            f"Zombie: pid {p.pid}" + (f" ({p.command})" if p.command else "")
            + f" of agent {p.agent_name or p.agent or 'unknown'} exited but was never reaped.",
            "critical", p.agent, p.agent_name, None,
            "Reap exited children: call wait()/Popen.wait() (or handle SIGCHLD) in the "
            f"parent of pid {p.pid}."))
    if d.agents:
        open_agents = [a for a in d.agents if a.spawn_ns and a.terminate_ns is None]
        values["unterminated_agents"] = (len(open_agents), str(len(open_agents)))
        for a in open_agents:
            findings.append(Finding(
                f"Agent {a.name} was spawned but never terminated (no terminate record).",
                "warning", a.agent_id, a.name, None,
                f"Terminate {a.name} explicitly (Agent.terminate()) or record its exit "
                "(Agent.record_exit()) so its end is known."))
    for key, arr, label, kind in (("fd_excess", tl.session_fds, "FDs", "fds"),
                                  ("thread_excess", tl.session_threads, "threads", "threads")):
        rel = _released_share(tl, ph, arr, kind)
        if rel:
            base, _, post, _ = rel
            excess = max(post - base, 0.0)
            values[key] = (excess, f"{excess:.0f}")
            if excess >= ctx.cfg.figure("cleanup", key).p10:
                findings.append(Finding(
                    f"{excess:.0f} {label} above baseline after termination "
                    f"({base:.0f} → {post:.0f}).", "warning", recommendation=
                    f"Release {label} when agents stop: they stay above the baseline."))
    rel = _released_share(tl, ph, tl.session_rss, "rss")
    if rel:
        base, peak, post, _ = rel
        excess = max(post - base, 0.0) / (base if base > 0 else max(peak, 1.0))
        values["memory_excess"] = (excess, pct(excess))
    if ph.post_termination is not None and not ph.settle_observed:
        findings.append(Finding(
            f"Samples end before the {ctx.cfg.settle_seconds:g} s settle window after the "
            "last terminate: the post-termination state is the last sample."))
    if not any(f.severity in ("warning", "critical") for f in findings) and values:
        findings.append(Finding("Every terminated agent is gone: no orphans, no zombies, "
                                "handles back to baseline.", "good"))
    return _dimension(ctx, "cleanup", values, findings, orphans=list(orphans.values()),
                      zombies=list(zombies.values()))


def _has_audit(d: SessionData) -> bool:
    return bool(d.facts.get("audit_spans"))


# --- the session -----------------------------------------------------------------------------


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
        phases=_timeline_rows(data, tl, ph), agents=_agent_summaries(ctx),
        environment=_environment(data), configuration=_configuration(data),
        not_measured=not_measured, series=_chart_series(ctx, start), start_ns=start,
        end_ns=end, config_source=cfg.source)


def _agent_summaries(ctx: Context) -> list[AgentSummary]:
    d = ctx.data
    cpu = {a: c for c, a, _, _ in _agent_cpu(ctx) if a is not None}
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
