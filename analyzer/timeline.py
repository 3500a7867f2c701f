"""A session over time: totals on a common grid (the timeline) and the phases on it.

Phases, as in a hand-written persistence report: baseline (before the first spawn), agents
active, peak (session memory), pre-termination (before the first terminate) and
post-termination (after the last terminate plus the settle window). They fit the classic
session (all agents spawn, work, all terminate); in a rolling population, where agents come
and go throughout, "agents active" and "pre-termination" have no moment, and the report says
so in a plain sentence instead of a row of n/a.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from swarmscope import conventions as C

from .results import PhaseRow
from .session_data import NS, AgentRecord, Samples, SessionData


@dataclass
class Timeline:
    """Session totals on a common time grid (as-of join of every process's latest sample)."""

    ts: np.ndarray
    session_rss: np.ndarray
    session_fds: np.ndarray
    session_threads: np.ndarray
    session_cpu_cores: np.ndarray
    process_count: np.ndarray
    system_memory: np.ndarray  # bytes used
    load_per_core: np.ndarray
    interval_s: float
    # the same totals over processes that belong to no agent (baseline when none came first)
    own: dict[str, np.ndarray] = field(default_factory=dict)

    def at(self, i: int | None, arr: np.ndarray) -> float | None:
        if i is None or not len(arr) or np.isnan(arr[i]):
            return None
        return float(arr[i])


def sample_interval_ns(samples: Samples) -> int:
    """The typical gap between two samples of one process."""
    gaps = [np.diff(s.ts) for s in samples.by_pid().values() if len(s) > 1]
    gaps = [g[g > 0] for g in gaps]
    flat = np.concatenate(gaps) if gaps else np.empty(0)
    return int(np.median(flat)) if len(flat) else NS


def _grid(ts: np.ndarray, interval_ns: int) -> np.ndarray:
    """Distinct sampling rounds: points within a tenth of the interval are one round."""
    ts = np.unique(ts)
    if not len(ts):
        return ts
    keep = [ts[0]]
    for t in ts[1:]:
        if t - keep[-1] > interval_ns // 10:
            keep.append(t)
    return np.asarray(keep, dtype=np.int64)


def asof_sum(samples: Samples, grid: np.ndarray, stale_ns: int,
             agents_only: bool | None = None,
             ended: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per grid time: sum over processes of their latest sample, and how many processes.

    A sample is carried forward for at most ``stale_ns``, and never past the terminate of the
    process's agent (``ended``: agent id -> terminate ns) unless it was taken after it.
    ``agents_only`` False sums only processes that belong to no agent (the orchestrator).
    """
    total = np.zeros(len(grid))
    count = np.zeros(len(grid))
    ended = ended or {}
    for s in samples.by_pid().values():
        owners = [a for a in s.agent if a is not None]
        if agents_only is False and owners:
            continue
        idx = np.searchsorted(s.ts, grid + stale_ns // 25, side="right") - 1
        ok = idx >= 0
        ok[ok] &= (grid[ok] - s.ts[idx[ok]]) <= stale_ns
        cutoff = ended.get(owners[-1]) if owners else None
        if cutoff is not None:
            ok[ok] &= (grid[ok] <= cutoff) | (s.ts[idx[ok]] > cutoff)
        total[ok] += s.value[idx[ok]]
        count[ok] += 1
    if len(samples) == 0:
        total[:] = np.nan
    return total, count


def asof_single(samples: Samples, grid: np.ndarray, stale_ns: int) -> np.ndarray:
    """A system-wide series (one producer) on the grid; NaN where no recent sample exists."""
    out = np.full(len(grid), np.nan)
    if not len(samples):
        return out
    order = np.argsort(samples.ts, kind="stable")
    ts, val = samples.ts[order], samples.value[order]
    idx = np.searchsorted(ts, grid + stale_ns // 25, side="right") - 1
    ok = idx >= 0
    ok[ok] &= (grid[ok] - ts[idx[ok]]) <= stale_ns
    out[ok] = val[idx[ok]]
    return out


def build_timeline(data: SessionData) -> Timeline:
    rss = data.samples(C.PROCESS_MEMORY_USAGE)
    interval = sample_interval_ns(rss if len(rss) else data.samples(C.SYSTEM_LOAD_1M))
    all_ts = np.concatenate([s.ts for s in data.metrics.values()] or [np.empty(0, np.int64)])
    grid = _grid(rss.ts if len(rss) else all_ts, interval)
    stale = int(interval * 1.5)
    ended = {a.agent_id: a.terminate_ns for a in data.agents if a.terminate_ns is not None}
    session_rss, count = asof_sum(rss, grid, stale, ended=ended)
    fds, _ = asof_sum(data.samples(C.PROCESS_FD_COUNT), grid, stale, ended=ended)
    threads, _ = asof_sum(data.samples(C.PROCESS_THREAD_COUNT), grid, stale, ended=ended)
    cpu, _ = asof_sum(data.samples(C.PROCESS_CPU_UTILIZATION), grid, stale, ended=ended)
    cores = data.cpu_count or 1
    sysmem = data.samples(C.SYSTEM_MEMORY_USAGE).with_key(str(C.SystemMemoryState.USED))
    load = asof_single(data.samples(C.SYSTEM_LOAD_1M), grid, stale * 4) / cores
    if not len(rss):
        count[:] = np.nan
    own_rss, own_count = asof_sum(rss, grid, stale, agents_only=False)
    own = {
        "rss": own_rss,
        "count": own_count,
        "fds": asof_sum(data.samples(C.PROCESS_FD_COUNT), grid, stale, agents_only=False)[0],
        "threads": asof_sum(data.samples(C.PROCESS_THREAD_COUNT), grid, stale,
                            agents_only=False)[0],
    }
    return Timeline(grid, session_rss, fds, threads, cpu * cores, count,
                    asof_single(sysmem, grid, stale), load, interval / NS, own)


# --- phases ----------------------------------------------------------------------------------


@dataclass
class Phases:
    """Indices into the timeline grid for each phase (None = no sample in that phase)."""

    first_spawn_ns: int | None
    first_terminate_ns: int | None
    last_terminate_ns: int | None
    settle_s: float
    baseline: int | None = None
    active: int | None = None
    peak: int | None = None
    pre_termination: int | None = None
    post_termination: int | None = None
    settle_observed: bool = False
    # No sample before the first spawn: the baseline is the session's own processes (those of
    # no agent) at the first sample - what the session held before its agents existed.
    baseline_estimated: bool = False
    shape: str = "classic"  # classic | rolling (grading.population)
    running: int = 0  # agents still running when the recording ended


def compute_phases(data: SessionData, tl: Timeline, settle_s: float,
                   agents: list[AgentRecord] | None = None, shape: str = "classic") -> Phases:
    """Phase indices on the grid; ``agents`` are those that define the phases (helpers that
    come and go in between do not), all of the session's by default."""
    agents = data.agents if agents is None else agents
    spawns = [a.spawn_ns for a in agents if a.spawn_ns]
    terms = [a.terminate_ns for a in agents if a.terminate_ns]
    ph = Phases(min(spawns) if spawns else None, min(terms) if terms else None,
                max(terms) if terms else None, settle_s, shape=shape,
                running=sum(1 for a in agents if a.spawn_ns and a.terminate_ns is None))
    g = tl.ts
    if not len(g):
        return ph
    if ph.first_spawn_ns is not None:
        before = np.flatnonzero(g < ph.first_spawn_ns)
        ph.baseline = int(before[-1]) if len(before) else None
        if ph.baseline is None:
            # the first sample that saw the session's own processes (not every process is
            # sampled at exactly the same instant)
            own = np.flatnonzero(tl.own["count"] > 0) if "count" in tl.own else np.empty(0)
            ph.baseline = int(own[0]) if len(own) else 0
            ph.baseline_estimated = True
    if not np.all(np.isnan(tl.session_rss)):
        ph.peak = int(np.nanargmax(tl.session_rss))
    _post_termination(ph, g, settle_s)
    if shape == "classic":
        _active_and_pre(ph, g, spawns)
    return ph


def _active_and_pre(ph: Phases, g: np.ndarray, spawns: list[int]) -> None:
    """The phases of the classic shape: every agent running, and just before the first stops."""
    end_active = ph.first_terminate_ns or int(g[-1])
    start_active = max(spawns) if spawns else int(g[0])
    during = np.flatnonzero((g >= start_active) & (g < end_active))
    if not len(during) and ph.first_spawn_ns is not None:
        during = np.flatnonzero((g >= ph.first_spawn_ns) & (g < end_active))
    if len(during):
        mid = (start_active + end_active) / 2
        ph.active = int(during[np.argmin(np.abs(g[during] - mid))])
    if ph.first_terminate_ns is not None:
        pre = np.flatnonzero(g < ph.first_terminate_ns)
        ph.pre_termination = int(pre[-1]) if len(pre) else None


def _post_termination(ph: Phases, g: np.ndarray, settle_s: float) -> None:
    if ph.last_terminate_ns is not None:
        target = ph.last_terminate_ns + int(settle_s * NS)
        after = np.flatnonzero(g >= target)
        if len(after):
            ph.post_termination, ph.settle_observed = int(after[0]), True
        else:
            late = np.flatnonzero(g > ph.last_terminate_ns)
            ph.post_termination = int(late[-1]) if len(late) else None


def timeline_rows(data: SessionData, tl: Timeline, ph: Phases,
                  agents: list[AgentRecord] | None = None) -> list[PhaseRow]:
    """The metrics timeline table: one row per phase that has a sample (phase_notes says
    why a phase is missing)."""
    agents = data.agents if agents is None else agents
    n_agents = len(agents)
    first_term = next((a for a in sorted(agents, key=lambda a: a.terminate_ns or 0)
                       if a.terminate_ns), None)
    events = {
        "baseline": "before the first spawn",
        "agents active": f"{n_agents} agent{'s' if n_agents != 1 else ''} spawned",
        "peak": "highest session memory",
        "pre-termination": f"before terminating {first_term.name}" if first_term else "",
        "post-termination": (f"{ph.settle_s:g} s after the last terminate" if ph.settle_observed
                             else "after the last terminate (settle window not fully observed)"),
    }
    if ph.baseline_estimated:
        events["baseline"] = "estimated: the session's own processes at the first sample"
    rows = []
    for phase, idx in (("baseline", ph.baseline), ("agents active", ph.active),
                       ("peak", ph.peak), ("pre-termination", ph.pre_termination),
                       ("post-termination", ph.post_termination)):
        if idx is None:
            continue
        own = phase == "baseline" and ph.baseline_estimated
        rows.append(PhaseRow(
            phase=phase,
            ts_ns=int(tl.ts[idx]),
            system_memory=tl.at(idx, tl.system_memory),
            session_memory=tl.at(idx, tl.own["rss"] if own else tl.session_rss),
            session_fds=tl.at(idx, tl.own["fds"] if own else tl.session_fds),
            process_count=tl.at(idx, tl.own["count"] if own else tl.process_count),
            event=events[phase],
        ))
    return rows


def phase_notes(tl: Timeline, ph: Phases) -> list[str]:
    """Plain sentences for the phases that do not apply to this session, and why."""
    if not len(tl.ts):
        return ["No process was sampled, so there is no timeline of session totals."]
    notes = []
    if ph.first_spawn_ns is None:
        notes.append("No agent was recorded: the timeline shows the session's own processes.")
        return notes
    if ph.shape == "rolling":
        notes.append("Agents started and ended throughout the session (a rolling population), "
                     "so no moment had every agent running: the classic 'agents active' and "
                     "'pre-termination' phases do not apply. The agent lifetimes show who ran "
                     "when.")
    else:
        if ph.active is None:
            notes.append("No sample was taken while every agent was running.")
        if ph.first_terminate_ns is not None and ph.pre_termination is None:
            notes.append("No sample was taken before the first agent was terminated.")
    if ph.post_termination is None:
        if ph.running:
            notes.append(f"{ph.running} agent{'s were' if ph.running != 1 else ' was'} still "
                         "running when the recording ended, so there is no state after the "
                         "last terminate.")
        elif ph.last_terminate_ns is None:
            notes.append("No agent was terminated while the session was recorded.")
        else:
            notes.append("No sample was taken after the last terminate.")
    return notes
