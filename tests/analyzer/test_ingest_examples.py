"""The official OTLP JSON examples, and every legal encoding, land with exact values."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest

EXAMPLES = Path("/work/shared/otlp-examples")
T0 = datetime(2018, 12, 13, 14, 51, 0)
T0_300 = datetime(2018, 12, 13, 14, 51, 0, 300000)


@pytest.fixture
def examples(data_dir: Path) -> Path:
    if not EXAMPLES.exists():
        pytest.skip("official OTLP examples not available")
    target = data_dir / "examples"
    target.mkdir(parents=True)
    for name in ("trace.json", "metrics.json", "logs.json"):
        shutil.copy(EXAMPLES / name, target / name)
    return target


def rows(con, query: str) -> list[dict]:
    cur = con.execute(query)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_official_examples_exact_rows(data_dir: Path, examples: Path) -> None:
    summary = ingest([examples], data_dir)
    assert summary.errors == []
    assert summary.files_read == 3
    assert summary.rows_added == {"resources": 1, "spans": 1, "metric_points": 3, "logs": 1}
    con = db.connect(data_dir, read_only=True)

    (span,) = rows(con, "SELECT * FROM spans")
    assert span["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert span["span_id"] == "eee19b7ec3c1b174"
    assert span["parent_span_id"] == "eee19b7ec3c1b173"
    assert span["name"] == "I'm a server span"
    assert span["kind"] == "SERVER"
    assert span["start_time"] == T0
    assert span["end_time"] == datetime(2018, 12, 13, 14, 51, 1)
    assert span["duration_ns"] == 1_000_000_000
    assert span["status_code"] == "UNSET"
    assert span["flags"] == 0
    assert span["attributes"] == {"my.span.attr": "some value"}
    assert (span["scope_name"], span["scope_version"]) == ("my.library", "1.0.0")
    assert span["service_name"] == "my.service"
    assert span["source_file"] == str((examples / "trace.json").resolve())
    assert span["source_line"] == 1

    points = {p["metric_name"]: p for p in rows(con, "SELECT * FROM metric_points")}
    counter, gauge, hist = points["my.counter"], points["my.gauge"], points["my.histogram"]
    assert (counter["type"], counter["temporality"], counter["is_monotonic"]) == (
        "sum", "DELTA", True)
    assert (counter["value"], counter["value_double"], counter["value_int"]) == (5.0, 5.0, None)
    assert counter["ts"] == counter["start_ts"] == T0_300
    assert counter["unit"] == "1"
    assert counter["description"] == "I`m a Counter"
    assert counter["attributes"] == {"my.counter.attr": "some value"}
    assert (gauge["type"], gauge["value"], gauge["start_ts"]) == ("gauge", 10.0, None)
    assert gauge["temporality"] is None
    assert hist["type"] == "histogram"
    assert (hist["count"], hist["sum"], hist["min"], hist["max"]) == (3, 3.0, 1.0, 1.0)
    assert hist["bucket_counts"] == [1, 1, 1]
    assert hist["explicit_bounds"] == [1.0]
    assert hist["value"] is None

    (log,) = rows(con, "SELECT * FROM logs")
    assert log["ts"] == log["observed_ts"] == T0_300
    assert log["severity_text"] == "Information"
    assert log["severity_number"] == 0  # omitted zero value
    assert log["body"] == "Example log record"
    assert log["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert log["span_id"] == "eee19b7ec3c1b174"
    assert log["attributes"] == {
        "string.attribute": "some string",
        "boolean.attribute": True,
        "int.attribute": 10,
        "double.attribute": 637.704,
        "array.attribute": ["many", "values"],
        "map.attribute": {"some.map.key": "some value"},
    }
    types = dict(con.execute(
        "SELECT k, variant_typeof(attributes[k]) FROM logs, unnest(map_keys(attributes)) t(k)"
    ).fetchall())
    assert types == {
        "string.attribute": "VARCHAR",
        "boolean.attribute": "BOOL_TRUE",
        "int.attribute": "INT64",
        "double.attribute": "DOUBLE",
        "array.attribute": "ARRAY(2)",
        "map.attribute": "OBJECT(some.map.key)",
    }
    # typed values compare and cast in SQL
    assert con.execute(
        "SELECT attributes['int.attribute'] = 10, attributes['int.attribute']::BIGINT + 1,"
        " attributes['string.attribute'] = 'some string' FROM logs"
    ).fetchone() == (True, 11, True)

    (session,) = rows(con, "SELECT * FROM sessions")
    assert session["session_id"] == "my.service/examples"  # fallback: no session.id
    assert (session["span_count"], session["metric_point_count"], session["log_count"]) == (
        1, 3, 1)
    assert session["agent_count"] == 0


def _kv(key: str, value: dict) -> dict:
    return {"key": key, "value": value}


def test_every_legal_encoding(data_dir: Path) -> None:
    """Ints as strings or numbers, hex ids in any case, enums as names, omitted zero values,
    every attribute value kind including bytes and nested arrays/kvlists."""
    span_a = {
        "traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "B7AD6B7169203331",
        "name": "a", "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": 1700000000000000001, "endTimeUnixNano": "1700000000000000011",
        "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
        "attributes": [
            _kv("s", {"stringValue": "x"}), _kv("i_str", {"intValue": "-42"}),
            _kv("i_num", {"intValue": 7}), _kv("d", {"doubleValue": 0.5}),
            _kv("d_int", {"doubleValue": 2}), _kv("b", {"boolValue": False}),
            _kv("bytes", {"bytesValue": "aGVsbG8="}),
            _kv("arr", {"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "two"},
                                                  {"arrayValue": {"values": []}}]}}),
            _kv("kv", {"kvlistValue": {"values": [_kv("inner", {"doubleValue": 1.5})]}}),
            _kv("empty", {}),
        ],
        "events": [{"timeUnixNano": "1700000000000000005", "name": "e",
                    "attributes": [_kv("n", {"intValue": "3"})]}],
        "links": [{"traceId": "0af7651916cd43dd8448eb211c80319d", "spanId": "00F067AA0BA902B7"}],
    }
    span_b = {  # everything omittable omitted
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00f067aa0ba902b7",
        "parentSpanId": "", "startTimeUnixNano": "1700000000000000001",
        "endTimeUnixNano": "1700000000000000001",
    }
    line = {"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"spans": [span_a, span_b]}]}]}
    metrics = {"resourceMetrics": [{"resource": {"attributes": [
        _kv("service.name", {"stringValue": "enc"})]}, "scopeMetrics": [{"metrics": [
            {"name": "g0", "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000001"}]}},
            {"name": "s", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
                                  "dataPoints": [{"timeUnixNano": 1700000000000000001,
                                                  "asInt": "9007199254740993"}]}},
            {"name": "eh", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [{
                "timeUnixNano": "1700000000000000001", "count": "4", "sum": 2.5, "scale": -1,
                "zeroCount": "1", "positive": {"offset": 2, "bucketCounts": ["1", "2"]},
                "negative": {"bucketCounts": [1]}}]}},
            {"name": "sm", "summary": {"dataPoints": [{
                "timeUnixNano": "1700000000000000001", "count": 10, "sum": 4.0,
                "quantileValues": [{"quantile": 0.5, "value": 0.3}, {"value": 0.1}]}]}},
        ]}]}]}
    logs = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [
        {"observedTimeUnixNano": "1700000000000000001", "severityNumber": "SEVERITY_NUMBER_WARN",
         "body": {"kvlistValue": {"values": [_kv("k", {"boolValue": True})]}},
         "traceId": "", "spanId": ""},
        {"timeUnixNano": 1700000000000000002, "severityNumber": 17,
         "body": {"intValue": "5"}},
    ]}]}]}
    data_dir.mkdir(parents=True)
    f = data_dir / "enc.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in (line, metrics, logs)) + "\n")
    summary = ingest([f], data_dir)
    assert summary.errors == []
    assert summary.rows_added["spans"] == 2
    con = db.connect(data_dir, read_only=True)
    a, b = rows(con, "SELECT * FROM spans ORDER BY name DESC")
    assert a["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert a["span_id"] == "b7ad6b7169203331"
    assert (a["kind"], a["status_code"], a["status_message"]) == ("CLIENT", "ERROR", "bad")
    assert a["duration_ns"] == 10
    assert a["attributes"] == {
        "s": "x", "i_str": -42, "i_num": 7, "d": 0.5, "d_int": 2.0, "b": False,
        "bytes": b"hello", "arr": [1, "two", {"values": []}], "kv": {"inner": 1.5},
        "empty": None,
    }
    assert a["events"][0]["attributes"] == {"n": 3}
    assert a["events"][0]["name"] == "e"
    assert a["links"][0]["span_id"] == "00f067aa0ba902b7"
    assert (b["kind"], b["status_code"], b["parent_span_id"], b["name"]) == (
        "UNSPECIFIED", "UNSET", None, "")
    assert (b["attributes"], b["events"], b["links"]) == ({}, [], [])

    pts = {p["metric_name"]: p for p in rows(con, "SELECT * FROM metric_points")}
    assert pts["g0"]["value"] == 0.0  # omitted zero value
    assert pts["s"]["value_int"] == 9007199254740993  # exact beyond 2**53
    assert (pts["s"]["temporality"], pts["s"]["is_monotonic"]) == ("CUMULATIVE", False)
    eh = pts["eh"]
    assert (eh["type"], eh["count"], eh["scale"], eh["zero_count"]) == (
        "exponential_histogram", 4, -1, 1)
    assert (eh["positive_offset"], eh["positive_bucket_counts"]) == (2, [1, 2])
    assert (eh["negative_offset"], eh["negative_bucket_counts"]) == (0, [1])
    assert pts["sm"]["quantiles"] == [{"quantile": 0.5, "value": 0.3},
                                      {"quantile": 0.0, "value": 0.1}]
    l1, l2 = rows(con, "SELECT * FROM logs ORDER BY ts")
    assert (l1["severity_number"], l1["body"], l1["trace_id"]) == (13, {"k": True}, None)
    assert l1["ts"] == l1["observed_ts"]
    assert (l2["severity_number"], l2["body"], l2["observed_ts"]) == (17, 5, None)
