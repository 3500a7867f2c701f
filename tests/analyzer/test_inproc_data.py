"""In-process agents' runs as grading loads them from real files and a real DuckDB: a run
whose memory was left out (``swarm.agent.run.memory_counted`` false) is no point of its
agent's leak series, and runs without the attribute (older files, other emitters) count."""

from __future__ import annotations

import json
from pathlib import Path

from otlp_session import kv
from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest
from swarmscope.analyzer.inproc_data import load_inproc

T = 1_700_000_000_000_000_000
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SESSION = "sess-counted"


def _run(n: int, retained: int, counted: bool | None) -> dict:
    attrs = [kv(C.GEN_AI_OPERATION_NAME, "invoke_agent"), kv(C.GEN_AI_AGENT_NAME, "leaky"),
             kv(C.PROCESS_PID, 4321), kv(C.AGENT_RUN_RETAINED_BLOCKS, retained),
             kv(C.AGENT_RUN_PROCESS_BLOCKS, 500_000 + retained)]
    if counted is not None:
        attrs.append(kv(C.AGENT_RUN_MEMORY_COUNTED, counted))
    start = T + n * 1_000_000_000
    return {"traceId": TRACE, "spanId": f"{n + 1:016x}", "name": "invoke_agent leaky",
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10_000_000),
            "attributes": attrs}


def test_runs_left_out_are_no_points_of_the_series(tmp_path: Path) -> None:
    # counted runs keep 20 000 blocks each; the left-out ones repeat the last counted figure
    counted = [None, True, False, True, False, False, True]
    spans, total = [], 0
    for n, flag in enumerate(counted):
        total += 20_000 if flag is not False else 0
        spans.append(_run(n, total, flag))
    resource = {"attributes": [kv(C.SESSION_ID, SESSION), kv(C.SERVICE_NAME, "fw")]}
    line = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    (tmp_path / "runs.jsonl").write_text(json.dumps(line) + "\n")
    ingest([tmp_path / "runs.jsonl"], tmp_path)
    con = db.connect(tmp_path, read_only=True)
    try:
        (agent,) = load_inproc(con, [SESSION])[SESSION]
    finally:
        con.close()
    assert agent.runs == len(counted)  # every run is a run of the agent
    kept = [n for n, flag in enumerate(counted) if flag is not False]
    assert list(agent.retained) == [20_000.0 * (i + 1) for i in range(len(kept))]
    assert list(agent.mem_ns) == [T + n * 1_000_000_000 + 10_000_000 for n in kept]
