"""In-process agents as grading reads them: each agent's runs, in the order they ended, and
the last points of its per-agent metrics (``sql/grading_inproc_*.sql``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from swarmscope import conventions as C

from . import db

LAST_POINT_METRICS = [C.AGENT_CPU_TIME, C.AGENT_RUNS_OPEN, C.AGENT_THREADS_ALIVE]


@dataclass
class InprocAgent:
    """One in-process agent (a framework's agent: its name and its process)."""

    agent_id: str
    name: str
    pid: int | None
    unit: str | None = None  # of retained / process_heap: {block} or By; None: not measured
    start_ns: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    end_ns: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    mem_ns: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # counted runs' ends
    retained: np.ndarray = field(default_factory=lambda: np.empty(0))  # after each run
    process_heap: np.ndarray = field(default_factory=lambda: np.empty(0))  # as each run ended
    run_cpu_s: float = 0.0  # summed over its finished runs
    failed: int = 0
    sites: list[str] = field(default_factory=list)  # tracemalloc mode, latest run recorded
    cpu_s: float | None = None  # last swarm.agent.cpu.time point (open runs included)
    open_at_end: int | None = None  # last swarm.agent.runs.open point
    threads_at_end: int | None = None  # last swarm.agent.threads.alive point

    @property
    def runs(self) -> int:
        return len(self.end_ns)

    @property
    def cpu(self) -> float:
        """CPU seconds of its runs: the metric when recorded (it counts unfinished runs)."""
        return max(self.run_cpu_s, self.cpu_s or 0.0)

    def first_ns(self) -> int | None:
        return int(self.start_ns.min()) if len(self.start_ns) else None

    def last_ns(self) -> int | None:
        return int(self.end_ns.max()) if len(self.end_ns) else None


def load_inproc(con: Any, session_ids: list[str]) -> dict[str, list[InprocAgent]]:
    """In-process agents of each session, with their runs and last metric points."""
    found: dict[tuple[str, str], InprocAgent] = {}
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _rows(con, "grading_inproc_runs", {"sessions": session_ids}):
        key = (row["session_id"], row["agent_id"])
        rows.setdefault(key, []).append(row)
    for key, runs in rows.items():
        found[key] = _agent(key[1], runs)
    for row in _rows(con, "grading_inproc_points",
                     {"sessions": session_ids, "metrics": LAST_POINT_METRICS}):
        agent = found.get((row["session_id"], row["agent_id"]))
        if agent is None or row["last_value"] is None:
            continue
        value = float(row["last_value"])
        if row["metric_name"] == C.AGENT_CPU_TIME:
            agent.cpu_s = value
        elif row["metric_name"] == C.AGENT_RUNS_OPEN:
            agent.open_at_end = int(value)
        else:
            agent.threads_at_end = int(value)
    out: dict[str, list[InprocAgent]] = {sid: [] for sid in session_ids}
    for (sid, _), agent in found.items():
        out[sid].append(agent)
    return out


def _agent(agent_id: str, runs: list[dict[str, Any]]) -> InprocAgent:
    # a run left out of its agent's figure (memory_counted false) is no point of its series
    measured = [r for r in runs if r["retained"] is not None and r["memory_counted"]]
    sites = [r["allocation_sites"] for r in runs if r["allocation_sites"]]
    pids = [r["pid"] for r in runs if r["pid"] is not None]
    return InprocAgent(
        agent_id=agent_id, name=runs[-1]["agent_name"] or agent_id,
        pid=int(pids[-1]) if pids else None,
        unit=measured[-1]["memory_unit"] if measured else None,
        start_ns=np.array([r["start_ns"] for r in runs], dtype=np.int64),
        end_ns=np.array([r["end_ns"] for r in runs], dtype=np.int64),
        mem_ns=np.array([r["end_ns"] for r in measured], dtype=np.int64),
        retained=np.array([r["retained"] for r in measured], dtype=float),
        process_heap=np.array([r["process_heap"] if r["process_heap"] is not None else np.nan
                               for r in measured], dtype=float),
        run_cpu_s=float(sum(r["cpu_s"] or 0.0 for r in runs)),
        failed=sum(1 for r in runs if r["failed"]),
        sites=list(sites[-1]) if sites else [])


def _rows(con: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = con.execute(db.load_sql(name), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
