"""Agent ids as the sdk writes them now (``swarm.agent.id``) and as frameworks write stable
ids (``gen_ai.agent.id``): spans, metric points, logs and cleanup audit events all read
coalesce(swarm.agent.id, gen_ai.agent.id). Real files, real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest

T = 1_700_000_000_000_000_000
TRACE = "0af7651916cd43dd8448eb211c80319c"


def _kv(key: str, value: str | int) -> dict:
    v = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
    return {"key": key, "value": v}


def _ids(instance: str | None, stable: str | None) -> list[dict]:
    out = []
    if instance is not None:
        out.append(_kv(C.AGENT_INSTANCE_ID, instance))
    if stable is not None:
        out.append(_kv(C.GEN_AI_AGENT_ID, stable))
    return out


def _span(n: int, name: str, attrs: list[dict], events: list[dict] | None = None) -> dict:
    return {"traceId": TRACE, "spanId": f"{n:016x}", "name": name,
            "startTimeUnixNano": str(T + n), "endTimeUnixNano": str(T + n + 1),
            "attributes": attrs, "events": events or []}


def _resource() -> dict:
    return {"attributes": [_kv(C.SESSION_ID, "sess-ids"), _kv(C.SERVICE_NAME, "ids")]}


def _write(data_dir: Path) -> Path:
    cases = [("swarm-only", None), (None, "stable-only"), ("instance", "stable")]
    spans = [_span(i + 1, f"invoke_agent {i}", _ids(a, b)) for i, (a, b) in enumerate(cases)]
    audit_event = {"timeUnixNano": str(T + 9), "name": C.EVENT_ORPHAN,
                   "attributes": [_kv(C.PROCESS_PID, 4242), *_ids("orphan-owner", None)]}
    spans.append(_span(9, C.SPAN_CLEANUP_AUDIT, [], [audit_event]))
    points = [{"timeUnixNano": str(T + i), "asDouble": 1.0, "attributes": _ids(a, b)}
              for i, (a, b) in enumerate(cases)]
    logs = [{"timeUnixNano": str(T + i), "body": {"stringValue": "x"}, "attributes": _ids(a, b)}
            for i, (a, b) in enumerate(cases)]
    lines = [
        {"resourceSpans": [{"resource": _resource(), "scopeSpans": [{"spans": spans}]}]},
        {"resourceMetrics": [{"resource": _resource(), "scopeMetrics": [{"metrics": [
            {"name": C.PROCESS_MEMORY_USAGE, "unit": "By", "gauge": {"dataPoints": points}}]}]}]},
        {"resourceLogs": [{"resource": _resource(), "scopeLogs": [{"logRecords": logs}]}]},
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ids.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_agent_id_prefers_swarm_agent_id_then_gen_ai_agent_id(data_dir: Path) -> None:
    summary = ingest([_write(data_dir)], data_dir)
    assert summary.errors == []
    con = db.connect(data_dir, read_only=True)
    try:
        want = ["instance", "stable-only", "swarm-only"]
        for table in ("spans", "metric_points", "logs"):
            got = sorted(r[0] for r in con.execute(
                f"SELECT agent_id FROM {table} WHERE agent_id IS NOT NULL").fetchall())
            assert got == want, table
        audit = con.execute("SELECT agent_id, pid FROM cleanup_events").fetchall()
        assert audit == [("orphan-owner", 4242)]
    finally:
        con.close()
