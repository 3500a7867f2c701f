"""A session over the point budget (``[points] max_graded``) is graded one point per series
and step, as a sampler with that interval would have recorded it: the last point of each step,
the mean of CPU utilisation, the sum of DELTA sums. Under the budget every point is read.
Verdicts must survive the coarser read both ways: a slow leak is still found, a flat series
is still flat, a true spinner still spins, and a worker busy for one second in every ten is
not made a spinner by its busy seconds happening to end each step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from otlp_session import NS, T0, OtlpSession, kv
from swarmscope import conventions as C
from swarmscope.analyzer import api, db
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.ingest import ingest
from swarmscope.analyzer.point_budget import step_for
from swarmscope.analyzer.results import Verdict
from swarmscope.analyzer.session_data import load_sessions

MB = 1_000_000
LENGTH_S = 1200  # 20 minutes at 1 Hz
STEP_S = 10  # what a budget of BUDGET gives this session's 10 series over 20 minutes
BUDGET = 2000
SESSION = "sess-budget"


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("budget") / "data"
    s = OtlpSession(SESSION)
    rng = np.random.default_rng(11)
    procs = {name: s.process(name, 4000 + i, 0.0, None, role="agent")
             for i, name in enumerate(["leaker", "steady", "spinner", "bursty"])}
    for t in range(1, LENGTH_S):
        for name, p in procs.items():
            rss = 80 * MB + rng.normal(0, 1 * MB) + (0.1 * MB * t if name == "leaker" else 0)
            s.sample(C.PROCESS_MEMORY_USAGE, p, t, rss)
            cores = {"spinner": 0.97, "bursty": 0.97 if t % STEP_S == STEP_S - 1 else 0.0}
            busy = cores.get(name, 0.02 + 0.01 * (t % 3))
            s.sample(C.PROCESS_CPU_UTILIZATION, p, t, busy * 0.75 / s.cpu_count,
                     cpu__mode="user")
            s.sample(C.PROCESS_CPU_UTILIZATION, p, t, busy * 0.25 / s.cpu_count,
                     cpu__mode="system")
        s.sample(C.SYSTEM_LOAD_1M, None, t, 0.5)
    s.write(data_dir)
    (data_dir / "gc.jsonl").write_text(json.dumps(_delta_gc_line(procs["steady"])) + "\n")
    assert ingest([data_dir], data_dir, progress=False).errors == []
    return data_dir


def _delta_gc_line(proc) -> dict:
    """GC collections of one process as a DELTA sum: each point counts its second alone."""
    points = [{"timeUnixNano": str(T0 + t * NS), "asInt": str(t % 4),
               "attributes": [kv(C.PROCESS_PID, proc.pid), kv(C.AGENT_INSTANCE_ID, proc.agent_id),
                              kv(C.GC_GENERATION, 0)]} for t in range(1, LENGTH_S)]
    metric = {"name": C.GC_COLLECTIONS, "unit": "{collection}",
              "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": points}}
    resource = {"attributes": [kv(C.SESSION_ID, SESSION), kv(C.SERVICE_NAME, "watched")]}
    return {"resourceMetrics": [{"resource": resource,
                                 "scopeMetrics": [{"metrics": [metric]}]}]}


@pytest.fixture(scope="module")
def budget_toml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("points") / "points.toml"
    path.write_text(f"[points]\nmax_graded = {BUDGET}\n")
    return path


def _load(data_dir: Path, max_points: int | None):
    con = db.connect(data_dir, read_only=True)
    try:
        return load_sessions(con, [SESSION], None, max_points)[SESSION]
    finally:
        con.close()


def _points(s) -> list[tuple]:
    """The points in an order of their own (points of one time come in any order)."""
    return sorted(zip(s.pid.tolist(), s.ts.tolist(), s.value.tolist(), s.key.tolist(),
                      strict=True), key=lambda p: (p[0], p[1], p[2], str(p[3])))


def _spinning(g) -> list[str]:
    return [f.agent_name for f in g.dimensions["cpu"].findings if f.kind == Verdict.CPU_SPINNING]


def test_the_step_is_the_shortest_that_fits_the_budget() -> None:
    day = 86_400 * NS
    assert step_for(19_000_000, 3200, day, 20_000_000) is None  # fits: every point
    assert step_for(276_000_000, 3200, day, 20_000_000) == 15 * NS
    assert step_for(276_000_000, 3200, 7 * day, 20_000_000) == 120 * NS
    assert step_for(10**12, 10**6, 365 * day, 1000) == 3600 * NS  # the coarsest there is


def test_under_the_budget_every_point_is_read(session_dir: Path) -> None:
    every = _load(session_dir, None)
    within = _load(session_dir, 10_000_000)
    assert within.point_step_ns is None
    for metric, samples in every.metrics.items():
        assert _points(within.samples(metric)) == _points(samples), metric
    g = api.grade(SESSION, session_dir, load_config(None), ingest_first=False)
    assert "graded_point_step_s" not in g.configuration
    assert "point budget" not in api.render(g, "md")


def test_over_the_budget_each_series_is_read_as_a_coarser_sampler(session_dir: Path) -> None:
    every, coarse = _load(session_dir, None), _load(session_dir, BUDGET)
    assert coarse.point_step_ns == STEP_S * NS
    step = STEP_S * NS
    for metric, reduce in ((C.PROCESS_MEMORY_USAGE, "last"), (C.PROCESS_CPU_UTILIZATION, "mean"),
                           (C.GC_COLLECTIONS, "sum")):
        for pid, fine in every.samples(metric).by_pid().items():
            got = coarse.samples(metric).by_pid()[pid]
            buckets = fine.ts // step
            starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
            ends = np.r_[starts[1:], len(fine)] - 1
            assert np.array_equal(got.ts, fine.ts[ends]), (metric, pid)
            want = {"last": fine.value[ends],
                    "mean": np.add.reduceat(fine.value, starts) / (ends - starts + 1),
                    "sum": np.add.reduceat(fine.value, starts)}[reduce]
            assert np.allclose(got.value, want), (metric, pid)
    assert len(coarse.samples(C.PROCESS_MEMORY_USAGE)) < len(
        every.samples(C.PROCESS_MEMORY_USAGE)) / (STEP_S - 1)


def test_verdicts_hold_when_the_session_is_read_coarser(
    session_dir: Path, budget_toml: Path
) -> None:
    fine = api.grade(SESSION, session_dir, load_config(None), ingest_first=False)
    coarse = api.grade(SESSION, session_dir, load_config(budget_toml), ingest_first=False)
    assert coarse.configuration["graded_point_step_s"] == STEP_S
    for g in (fine, coarse):
        assert [lk.agent_name for lk in g.dimensions["memory"].leaks] == ["leaker"]
        assert _spinning(g) == ["spinner"]  # and not "bursty": 1 s busy in every 10


def test_the_report_says_the_session_was_read_coarser(
    session_dir: Path, budget_toml: Path
) -> None:
    g = api.grade(SESSION, session_dir, load_config(budget_toml), ingest_first=False)
    assert f"one point every {STEP_S} s" in api.render(g, "md")
    assert f"one point every {STEP_S} s" in api.render(g, "html")
    assert json.loads(api.render(g, "json"))["configuration"]["graded_point_step_s"] == STEP_S


def test_the_budget_must_be_a_whole_number_of_points(tmp_path: Path) -> None:
    from swarmscope.analyzer.config import ConfigError

    for bad in ("10", "true", "2500.5", '"many"'):
        path = tmp_path / "points.toml"
        path.write_text(f"[points]\nmax_graded = {bad}\n")
        with pytest.raises(ConfigError, match="points.max_graded"):
            load_config(path)
