"""The report's technical details describe every runtime of a session: a session of Python
and Node.js processes names both, each with its own version (never one's name with the
other's version)."""

from __future__ import annotations

import json
from pathlib import Path

from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest

NS = 1_000_000_000
T = 1_700_000_000 * NS


def _kv(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _resource_line(runtime: str, version: str, pid: str) -> str:
    resource = {"attributes": [_kv(C.SESSION_ID, "mixed"), _kv(C.SERVICE_NAME, "swarm"),
                               _kv(C.PROCESS_RUNTIME_NAME, runtime),
                               _kv(C.PROCESS_RUNTIME_VERSION, version)]}
    point = {"timeUnixNano": str(T), "asDouble": 1e6,
             "attributes": [{"key": C.PROCESS_PID, "value": {"intValue": pid}}]}
    metric = {"name": C.PROCESS_MEMORY_USAGE, "unit": "By", "gauge": {"dataPoints": [point]}}
    return json.dumps({"resourceMetrics": [{"resource": resource,
                                            "scopeMetrics": [{"metrics": [metric]}]}]})


def test_a_mixed_session_names_each_runtime_with_its_own_version(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "python.jsonl").write_text(_resource_line("cpython", "3.11.7", "10") + "\n")
    (data_dir / "node.jsonl").write_text(_resource_line("nodejs", "20.20.2", "11") + "\n")
    ingest([data_dir], data_dir, progress=False)
    con = db.connect(data_dir, read_only=True)
    try:
        sql = db.load_sql("grading_sessions")
        row = con.execute(sql, {"sessions": ["mixed"], "runtime_name": C.PROCESS_RUNTIME_NAME,
                                "runtime_version": C.PROCESS_RUNTIME_VERSION,
                                "os_type": C.OS_TYPE, "audit_span": C.SPAN_CLEANUP_AUDIT,
                                "event_overruns": C.PROCESS_EVENT_OVERRUNS})
        columns = [d[0] for d in row.description]
        facts = dict(zip(columns, row.fetchone(), strict=True))
    finally:
        con.close()
    assert facts["runtime_name"] == "cpython, nodejs"
    assert facts["runtime_version"] == "cpython 3.11.7, nodejs 20.20.2"
