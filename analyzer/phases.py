"""Joins traces with metrics per session: agents, their samples, the session timeline, phases.

``load_sessions`` reads the session model (SQL in ``sql/grading_*.sql``) into plain
``SessionData`` objects; everything after that is pure Python over numpy arrays, so grading
can be tested on sessions built in memory.

Phases, as in a hand-written persistence report: baseline (before the first spawn), agents
active, peak (session memory), pre-termination (before the first terminate) and
post-termination (after the last terminate plus the settle window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from swarmscope import conventions as C

from .scoring import PhaseRow

NS = 1_000_000_000
# Point attributes that tell series of one metric apart, in the order grading_points.sql reads.
SERIES_KEYS = [C.CPU_MODE, C.GC_GENERATION, C.SYSTEM_MEMORY_STATE, C.PROCESS_STATE,
               C.CONTEXT_SWITCH_TYPE]
GRADED_METRICS = [
    C.PROCESS_MEMORY_USAGE,
    C.PROCESS_CPU_UTILIZATION,
    C.PROCESS_CPU_TIME,
    C.PROCESS_THREAD_COUNT,
    C.PROCESS_FD_COUNT,
    C.PROCESS_CONTEXT_SWITCHES,
    C.SYSTEM_MEMORY_USAGE,
    C.SYSTEM_MEMORY_UTILIZATION,
    C.SYSTEM_LOAD_1M,
    C.SYSTEM_PROCESS_COUNT,
    C.GC_COLLECTIONS,
    C.GC_COLLECTED_OBJECTS,
    C.GC_UNCOLLECTABLE_OBJECTS,
    C.GC_PAUSE_DURATION,
    C.HEAP_ALLOCATED_BLOCKS,
]


@dataclass
class AgentRecord:
    agent_id: str
    name: str
    pid: int | None = None
    kind: str | None = None
    spawn_ns: int | None = None
    terminate_ns: int | None = None
    exit_code: int | None = None
    reason: str | None = None
    task_count: int = 0
    failed_tasks: int = 0
    first_task_ns: int | None = None  # start-up (imports, caches) is over by then


@dataclass
class Samples:
    """Points of one metric: parallel arrays (pid -1 = unknown, agent None = not an agent)."""

    ts: np.ndarray  # int64 ns
    value: np.ndarray  # float64
    pid: np.ndarray  # int64
    agent: np.ndarray  # object (str | None)
    key: np.ndarray  # object (str | None): cpu.mode, gc generation, memory / process state
    cumulative: bool = True

    @classmethod
    def empty(cls) -> Samples:
        return cls(*(np.empty(0, dtype=d) for d in ("int64", "float64", "int64", "O", "O")))

    def __len__(self) -> int:
        return len(self.ts)

    def where(self, mask: np.ndarray) -> Samples:
        return Samples(self.ts[mask], self.value[mask], self.pid[mask], self.agent[mask],
                       self.key[mask], self.cumulative)

    def with_key(self, key: str | None) -> Samples:
        return self.where(self.key == key) if key is not None else self

    def by_pid(self) -> dict[int, Samples]:
        return {int(p): self.where(self.pid == p) for p in np.unique(self.pid)}


@dataclass
class LeftoverRecord:
    problem: str  # orphan | zombie
    pid: int
    parent_pid: int | None
    agent_id: str | None
    command: str | None
    age_s: float | None
    ts_ns: int | None


@dataclass
class SessionData:
    """Everything grading needs about one session."""

    session_id: str
    agents: list[AgentRecord] = field(default_factory=list)
    metrics: dict[str, Samples] = field(default_factory=dict)
    cleanup: list[LeftoverRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # sessions view row

    def samples(self, metric: str) -> Samples:
        return self.metrics.get(metric) or Samples.empty()

    @property
    def cpu_count(self) -> int | None:
        count = self.facts.get("cpu_count")
        return int(count) if count else None

    def agent_by_id(self) -> dict[str, AgentRecord]:
        return {a.agent_id: a for a in self.agents}

    def span_ns(self) -> tuple[int | None, int | None]:
        times = [t for s in self.metrics.values() for t in (s.ts[:1], s.ts[-1:]) if len(t)]
        times += [[t] for a in self.agents for t in (a.spawn_ns, a.terminate_ns) if t]
        flat = [int(x) for t in times for x in t]
        start = self.facts.get("start_ns") or (min(flat) if flat else None)
        end = self.facts.get("end_ns") or (max(flat) if flat else None)
        return start, end


# --- loading ---------------------------------------------------------------------------------


def _sql(name: str) -> str:
    from .db import load_sql

    return load_sql(name)


def load_sessions(con: Any, session_ids: list[str]) -> dict[str, SessionData]:
    """Read agents, metric points, cleanup records and facts of ``session_ids`` at once."""
    data = {sid: SessionData(sid) for sid in session_ids}
    params = {"sessions": session_ids}
    for row in _rows(con, "grading_sessions", {
        **params, "runtime_name": C.PROCESS_RUNTIME_NAME,
        "runtime_version": C.PROCESS_RUNTIME_VERSION, "os_type": C.OS_TYPE,
        "audit_span": C.SPAN_CLEANUP_AUDIT}):
        data[row["session_id"]].facts = row
    for row in _rows(con, "grading_agents", params):
        data[row["session_id"]].agents.append(AgentRecord(
            agent_id=row["agent_id"], name=row["agent_name"] or row["agent_id"],
            pid=_int(row["pid"]), kind=row["kind"], spawn_ns=_int(row["spawn_ns"]),
            terminate_ns=_int(row["terminate_ns"]), exit_code=_int(row["exit_code"]),
            reason=row["termination_reason"], task_count=int(row["task_count"] or 0),
            failed_tasks=int(row["failed_tasks"] or 0), first_task_ns=_int(row["first_task_ns"])))
    for row in _rows(con, "grading_cleanup", params):
        data[row["session_id"]].cleanup.append(LeftoverRecord(
            problem=row["problem"], pid=int(row["pid"] or -1), parent_pid=_int(row["parent_pid"]),
            agent_id=row["agent_id"], command=row["command"], age_s=row["age_s"],
            ts_ns=_int(row["ts_ns"])))
    cols = con.execute(_sql("grading_points"), {
        **params, "metrics": GRADED_METRICS, "keys": SERIES_KEYS}).fetchnumpy()
    _split_points(data, cols)
    for session in data.values():
        attribute_points(session)
    return data


def _rows(con: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = con.execute(_sql(name), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _column(cols: dict[str, Any], name: str, fill: Any) -> np.ndarray:
    """A fetched column as a plain array; NULLs (masked entries) become ``fill``."""
    col = cols[name]
    if isinstance(col, np.ma.MaskedArray):
        out = np.asarray(col.data, dtype=object if fill is None else col.dtype).copy()
        out[np.ma.getmaskarray(col)] = fill
        return out
    return np.asarray(col)


def _split_points(data: dict[str, SessionData], cols: dict[str, Any]) -> None:
    if not len(cols["ts_ns"]):
        return
    session = _column(cols, "session_id", None).astype(object)
    metric = _column(cols, "metric_name", None).astype(object)
    group = np.array([f"{a}\x1f{b}" for a, b in zip(session, metric, strict=True)], dtype=object)
    order = np.argsort(group, kind="stable")  # keeps time order inside a group
    group = group[order]
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    arrays = {
        "ts_ns": _column(cols, "ts_ns", 0).astype(np.int64)[order],
        "value": _column(cols, "value", np.nan).astype(float)[order],
        "pid": _column(cols, "pid", -1).astype(np.int64)[order],
        "agent_id": _column(cols, "agent_id", None).astype(object)[order],
        "key": _column(cols, "key", None).astype(object)[order],
        "temporality": _column(cols, "temporality", None).astype(object)[order],
    }
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        sid, name = str(group[lo]).split("\x1f", 1)
        sl = slice(lo, hi)
        data[sid].metrics[name] = Samples(
            ts=arrays["ts_ns"][sl],
            value=np.nan_to_num(arrays["value"][sl], nan=0.0),
            pid=arrays["pid"][sl],
            agent=arrays["agent_id"][sl].copy(),
            key=arrays["key"][sl],
            cumulative=arrays["temporality"][lo] != "DELTA",
        )


def attribute_points(session: SessionData) -> None:
    """Give points without an agent id the agent spawned with their pid (latest spawn wins)."""
    spawned = sorted((a.spawn_ns or 0, a.pid, a.agent_id) for a in session.agents
                     if a.pid is not None)
    if not spawned:
        return
    for samples in session.metrics.values():
        missing = np.equal(samples.agent, None)
        if not missing.any():
            continue
        for spawn_ns, pid, agent_id in spawned:  # later spawns overwrite earlier ones
            # a sample may precede the end of the spawn span by a little
            hit = missing & (samples.pid == pid) & (samples.ts >= spawn_ns - NS)
            samples.agent[hit] = agent_id


# --- timeline --------------------------------------------------------------------------------


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


def compute_phases(data: SessionData, tl: Timeline, settle_s: float) -> Phases:
    spawns = [a.spawn_ns for a in data.agents if a.spawn_ns]
    terms = [a.terminate_ns for a in data.agents if a.terminate_ns]
    ph = Phases(min(spawns) if spawns else None, min(terms) if terms else None,
                max(terms) if terms else None, settle_s)
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
    end_active = ph.first_terminate_ns or int(g[-1])
    start_active = max(spawns) if spawns else int(g[0])
    during = np.flatnonzero((g >= start_active) & (g < end_active))
    if not len(during) and ph.first_spawn_ns is not None:
        during = np.flatnonzero((g >= ph.first_spawn_ns) & (g < end_active))
    if len(during):
        mid = (start_active + end_active) / 2
        ph.active = int(during[np.argmin(np.abs(g[during] - mid))])
    if not np.all(np.isnan(tl.session_rss)):
        ph.peak = int(np.nanargmax(tl.session_rss))
    if ph.first_terminate_ns is not None:
        pre = np.flatnonzero(g < ph.first_terminate_ns)
        ph.pre_termination = int(pre[-1]) if len(pre) else None
    if ph.last_terminate_ns is not None:
        target = ph.last_terminate_ns + int(settle_s * NS)
        after = np.flatnonzero(g >= target)
        if len(after):
            ph.post_termination, ph.settle_observed = int(after[0]), True
        else:
            late = np.flatnonzero(g > ph.last_terminate_ns)
            ph.post_termination = int(late[-1]) if len(late) else None
    return ph


def timeline_rows(data: SessionData, tl: Timeline, ph: Phases) -> list[PhaseRow]:
    """The metrics timeline table: one row per phase."""
    n_agents = len(data.agents)
    first_term = next((a for a in sorted(data.agents, key=lambda a: a.terminate_ns or 0)
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
        own = phase == "baseline" and ph.baseline_estimated
        rows.append(PhaseRow(
            phase=phase,
            ts_ns=int(tl.ts[idx]) if idx is not None else None,
            system_memory=tl.at(idx, tl.system_memory),
            session_memory=tl.at(idx, tl.own["rss"] if own else tl.session_rss),
            session_fds=tl.at(idx, tl.own["fds"] if own else tl.session_fds),
            process_count=tl.at(idx, tl.own["count"] if own else tl.process_count),
            event=events[phase] if idx is not None else "no samples in this phase",
        ))
    return rows
