"""Loading a session for grading from a real database: process.cpu.utilization per cpu.mode
adds up to the process's total (neither doubled nor halved), and metrics grading does not
read (gen_ai.invoke_agent.duration) ingest without trouble."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.grading.context import Context
from swarmscope.analyzer.grading.cpu import agent_cpu
from swarmscope.analyzer.ingest import ingest
from swarmscope.analyzer.session_data import load_sessions
from swarmscope.analyzer.timeline import build_timeline, compute_phases

NS = 1_000_000_000
T = 1_700_000_000 * NS
SAMPLES = 20
USER, SYSTEM = 0.3, 0.1  # utilisation of one process per mode (share of all cores)


def _kv(key: str, value: str | int) -> dict:
    v = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
    return {"key": key, "value": v}


def _point(t: int, value: float, *attrs: dict) -> dict:
    return {"timeUnixNano": str(t), "asDouble": value, "attributes": list(attrs)}


def _session_file(data_dir: Path) -> Path:
    agent = [_kv(C.PROCESS_PID, 3001), _kv(C.AGENT_INSTANCE_ID, "worker-1")]
    util, rss = [], []
    for i in range(SAMPLES):
        t = T + i * NS
        util.append(_point(t, USER, *agent, _kv(C.CPU_MODE, str(C.CpuMode.USER))))
        util.append(_point(t, SYSTEM, *agent, _kv(C.CPU_MODE, str(C.CpuMode.SYSTEM))))
        rss.append(_point(t, 50e6, *agent))
    durations = {"dataPoints": [{"timeUnixNano": str(T + NS), "count": "2", "sum": 1.5,
                                 "bucketCounts": ["1", "1"], "explicitBounds": [1.0],
                                 "attributes": agent}],
                 "aggregationTemporality": 2}
    resource = {"attributes": [_kv(C.SESSION_ID, "sess-cpu"), _kv(C.SERVICE_NAME, "cpu"),
                               _kv(C.HOST_CPU_COUNT, 2)]}
    line = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [
        {"name": C.PROCESS_CPU_UTILIZATION, "unit": "1", "gauge": {"dataPoints": util}},
        {"name": C.PROCESS_MEMORY_USAGE, "unit": "By", "gauge": {"dataPoints": rss}},
        {"name": C.GEN_AI_INVOKE_AGENT_DURATION, "unit": "s", "histogram": durations},
    ]}]}]}
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "cpu.jsonl"
    path.write_text(json.dumps(line) + "\n")
    return path


@pytest.fixture
def session(data_dir: Path):
    summary = ingest([_session_file(data_dir)], data_dir)
    assert summary.errors == []
    assert summary.rows_added["metric_points"] == 3 * SAMPLES + 1
    con = db.connect(data_dir, read_only=True)
    try:
        return load_sessions(con, ["sess-cpu"])["sess-cpu"]
    finally:
        con.close()


def test_utilization_modes_are_summed_per_timestamp(session) -> None:
    util = session.samples(C.PROCESS_CPU_UTILIZATION)
    assert len(util) == SAMPLES  # one point per sample time, not one per mode
    assert np.allclose(util.value, USER + SYSTEM)
    assert set(util.key.tolist()) == {None}


def test_cpu_figures_read_the_total_of_the_modes(session) -> None:
    cfg = load_config()
    tl = build_timeline(session)
    ctx = Context(session, cfg, tl, compute_phases(session, tl, cfg.settle_seconds))
    [(cores, agent_id, pid, _)] = agent_cpu(ctx)
    assert (agent_id, pid) == ("worker-1", 3001)
    assert cores == pytest.approx((USER + SYSTEM) * 2)  # a share of 2 cores
    assert np.nanmax(tl.session_cpu_cores) == pytest.approx((USER + SYSTEM) * 2)


def test_invoke_agent_duration_histogram_is_stored(data_dir: Path, session) -> None:
    con = db.connect(data_dir, read_only=True)
    try:
        row = con.execute("SELECT type, count, sum, agent_id FROM metric_points "
                          "WHERE metric_name = ?", [C.GEN_AI_INVOKE_AGENT_DURATION]).fetchone()
    finally:
        con.close()
    assert row == ("histogram", 2, 1.5, "worker-1")


def test_text_columns_keep_their_values_across_result_chunks() -> None:
    """Large results come from DuckDB in several Arrow chunks: the codes of one dictionary
    must hold across them, and equal values share one string object."""
    import pyarrow as pa
    from swarmscope.analyzer.session_data import _strings

    chunks = [["agent-a", "agent-b", None], ["agent-c", "agent-a"], ["agent-b"]]
    table = pa.table({"agent_id": pa.chunked_array([pa.array(c) for c in chunks])})
    agents = _strings(table, "agent_id")
    assert agents.tolist() == [v for c in chunks for v in c]
    assert agents[0] is agents[4]


def test_samples_by_pid_are_each_pids_samples_in_their_order() -> None:
    from swarmscope.analyzer.session_data import Samples

    rng = np.random.default_rng(5)
    n = 500
    samples = Samples(ts=np.arange(n, dtype=np.int64), value=rng.normal(size=n),
                      pid=rng.choice([-1, 7, 3, 12], size=n).astype(np.int64),
                      agent=np.array([None] * n, dtype=object),
                      key=np.array(["user", None] * (n // 2), dtype=object))
    split = samples.by_pid()
    assert list(split) == [-1, 3, 7, 12]
    for pid, part in split.items():
        mask = samples.pid == pid
        assert part.ts.tolist() == samples.ts[mask].tolist()
        assert part.value.tolist() == samples.value[mask].tolist()
        assert part.key.tolist() == samples.key[mask].tolist()
    assert Samples.empty().by_pid() == {}
