"""One session's data as grading reads it: agents, metric samples, cleanup records, facts.

``load_sessions`` reads the session model (SQL in ``sql/grading_*.sql``) into plain
``SessionData`` objects; everything after that is pure Python over numpy arrays, so grading
can be tested on sessions built in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from swarmscope import conventions as C

from . import db, node_points, point_budget
from .inproc_data import InprocAgent, load_inproc
from .units import NS

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
# Metrics whose per-mode points add up to one figure: utilisation is reported per cpu.mode
# (user, system) and grading reads the process's total.
SUMMED_OVER_KEYS = [C.PROCESS_CPU_UTILIZATION]


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
    role: str | None = None  # swarm.agent.role: agent | helper (None: not recorded)
    parent_pid: int | None = None
    span_id: str | None = None  # of its create_agent span
    parent_span_id: str | None = None  # the create_agent span's parent


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
        """The samples of each pid, in pid order, each in its original (time) order. One sort,
        not a mask per pid: a mask each costs pids x samples (23 s for an hour of 100
        processes)."""
        if not len(self):
            return {}
        order = np.argsort(self.pid, kind="stable")
        pids = self.pid[order]
        starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
        ends = np.r_[starts[1:], len(pids)]
        return {int(pids[a]): self.where(order[a:b]) for a, b in zip(starts, ends, strict=True)}


@dataclass
class LeftoverRecord:
    problem: str  # orphan | zombie
    pid: int
    parent_pid: int | None
    agent_id: str | None
    command: str | None
    age_s: float | None
    ts_ns: int | None
    parent_name: str | None = None  # swarm.process.parent_name: who fails to reap a zombie
    zombie_s: float | None = None  # swarm.process.zombie_seconds: how long it waited unreaped


@dataclass
class HungRecord:
    """A ``swarm.process.hung`` event: blocked on a read whose other end stays open, idle."""

    pid: int
    agent_id: str | None
    waiting_on: str | None
    idle_s: float | None
    holder_pid: int | None
    ts_ns: int | None


@dataclass
class SessionData:
    """Everything grading needs about one session."""

    session_id: str
    agents: list[AgentRecord] = field(default_factory=list)
    metrics: dict[str, Samples] = field(default_factory=dict)
    cleanup: list[LeftoverRecord] = field(default_factory=list)
    hung: list[HungRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # sessions view row
    inproc: list[InprocAgent] = field(default_factory=list)  # frameworks' in-process agents
    # the step its metric points were read at (point_budget): None for every point
    point_step_ns: int | None = None

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


def load_sessions(con: Any, session_ids: list[str],
                  points_from: Callable[[int], int] | None = None,
                  max_points: int | None = None) -> dict[str, SessionData]:
    """Read agents, metric points, cleanup records and facts of ``session_ids`` at once.

    ``points_from`` maps a session's end (ns) to the first time whose metric points are
    needed (``report --since``): earlier points are not read, which is what keeps the report
    of a long session's last hour as cheap as that hour. A session with more points than
    ``max_points`` (None: no limit) is read one point per series and step (point_budget)."""
    data = {sid: SessionData(sid) for sid in session_ids}
    params = {"sessions": session_ids}
    for row in _rows(con, "grading_sessions", {
        **params, "runtime_name": C.PROCESS_RUNTIME_NAME,
        "runtime_version": C.PROCESS_RUNTIME_VERSION, "os_type": C.OS_TYPE,
        "audit_span": C.SPAN_CLEANUP_AUDIT, "event_overruns": C.PROCESS_EVENT_OVERRUNS}):
        data[row["session_id"]].facts = row
    for row in _rows(con, "grading_agents", params):
        data[row["session_id"]].agents.append(AgentRecord(
            agent_id=row["agent_id"], name=row["agent_name"] or row["agent_id"],
            pid=_int(row["pid"]), kind=row["kind"], spawn_ns=_int(row["spawn_ns"]),
            terminate_ns=_int(row["terminate_ns"]), exit_code=_int(row["exit_code"]),
            reason=row["termination_reason"], task_count=int(row["task_count"] or 0),
            failed_tasks=int(row["failed_tasks"] or 0), first_task_ns=_int(row["first_task_ns"]),
            role=row["role"], parent_pid=_int(row["parent_pid"]), span_id=row["span_id"],
            parent_span_id=row["parent_span_id"]))
    for sid, agents in load_inproc(con, session_ids).items():
        _add_inproc(data[sid], agents)
    for row in _rows(con, "grading_cleanup", params):
        data[row["session_id"]].cleanup.append(LeftoverRecord(
            problem=row["problem"], pid=int(row["pid"] or -1), parent_pid=_int(row["parent_pid"]),
            agent_id=row["agent_id"], command=row["command"], age_s=row["age_s"],
            ts_ns=_int(row["ts_ns"]), parent_name=row["parent_name"], zombie_s=row["zombie_s"]))
    for row in _rows(con, "grading_hung", params):
        data[row["session_id"]].hung.append(HungRecord(
            pid=int(row["pid"] if row["pid"] is not None else -1), agent_id=row["agent_id"],
            waiting_on=row["waiting_on"], idle_s=row["idle_s"],
            holder_pid=_int(row["holder_pid"]), ts_ns=_int(row["ts_ns"])))
    from_ns = [_points_from(data[sid], points_from) for sid in session_ids]
    earliest = None if None in from_ns else min(from_ns, default=None)
    steps = [None] * len(session_ids) if max_points is None else point_budget.point_steps(
        con, session_ids, from_ns, earliest, GRADED_METRICS, max_points)
    for sid, step in zip(session_ids, steps, strict=True):
        data[sid].point_step_ns = step
    cols = con.execute(db.load_sql("grading_points"), {
        **params, "metrics": GRADED_METRICS, "keys": SERIES_KEYS,
        "summed": SUMMED_OVER_KEYS, "from_ns": from_ns, "earliest_ns": earliest,
        "step_ns": steps, "averaged": point_budget.AVERAGED,
    }).to_arrow_table()
    _split_points(data, cols, session_ids, GRADED_METRICS)
    node = node_points.params(session_ids, from_ns, earliest)
    _split_points(data, con.execute(db.load_sql(node_points.SQL), node).to_arrow_table(),
                  session_ids, node_points.SERIES)
    for session in data.values():
        attribute_points(session)
    return data


def _add_inproc(session: SessionData, agents: list[InprocAgent]) -> None:
    """Frameworks' agents are graded apart: their pid is the process they run in, not theirs."""
    ids = {a.agent_id for a in agents}
    session.inproc = agents
    session.agents = [a for a in session.agents if a.agent_id not in ids or a.spawn_ns]


def _rows(con: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = con.execute(db.load_sql(name), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _points_from(session: SessionData, points_from: Callable[[int], int] | None) -> int | None:
    end = session.facts.get("end_ns")
    return None if points_from is None or end is None else points_from(int(end))


def _numbers(table: pa.Table, name: str, fill: float, dtype: type) -> np.ndarray:
    """A fetched numeric column as a plain array; NULLs become ``fill``."""
    return pc.fill_null(table[name], fill).to_numpy().astype(dtype, copy=False)


def _strings(table: pa.Table, name: str) -> np.ndarray:
    """A fetched text column as an object array whose equal values are one Python string:
    a point costs a pointer, not a string object of its own (a day of points would not fit
    in memory otherwise)."""
    encoded = pc.dictionary_encode(table[name]).combine_chunks()
    values = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    return values[pc.fill_null(encoded.indices, len(values) - 1).to_numpy()]


def _split_points(data: dict[str, SessionData], table: pa.Table, sessions: list[str],
                  metrics: list[str]) -> None:
    """Rows grouped by (session_ix, metric_ix), time-ordered inside each group (the SQL's
    ORDER BY), into one :class:`Samples` per session and metric."""
    if not table.num_rows:
        return
    group = (_numbers(table, "session_ix", 0, np.int64) * (len(metrics) + 1)
             + _numbers(table, "metric_ix", 0, np.int64))
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    ts = _numbers(table, "ts_ns", 0, np.int64)
    value = np.nan_to_num(_numbers(table, "value", np.nan, np.float64), nan=0.0)
    pid = _numbers(table, "pid", -1, np.int64)
    agent, key = _strings(table, "agent_id"), _strings(table, "key")
    cumulative = pc.fill_null(table["cumulative"], True).to_numpy(zero_copy_only=False)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        ix_session, ix_metric = divmod(int(group[lo]), len(metrics) + 1)
        sl = slice(lo, hi)
        data[sessions[ix_session - 1]].metrics[metrics[ix_metric - 1]] = Samples(
            ts=ts[sl], value=value[sl], pid=pid[sl], agent=agent[sl].copy(), key=key[sl],
            cumulative=bool(cumulative[lo]))


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
