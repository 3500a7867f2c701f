"""The Arrow reader (analyzer/ingest_arrow.py) stores exactly what the SQL reader stores.

Each corpus is ingested twice, once with the Arrow reader on and once with every group
left to the SQL reader, and every table must come out the same row for row. The corpora
are OTLP as the sdk writes it (a real recording), the official examples, one holding every
kind of record and value OTLP has, and the hostile corpus; for the clean ones the test
also checks that the Arrow reader took them, and for each kind of input it must leave to
the SQL reader, that it does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hostile_corpus import GENERATORS
from swarmscope.analyzer import db, ingest_arrow, ingest_load
from swarmscope.analyzer.ingest import ingest

EXAMPLES = Path("/work/shared/otlp-examples")
TS = 1_700_000_000_000_000_000
TRACE = "0af7651916cd43dd8448eb211c80319c"
# what differs between two ingests of the same files whatever the reader
VOLATILE = {"ingested_files": "EXCLUDE (first_ingest, last_ingest)",
            "ingest_errors": "EXCLUDE (ingested_at)",
            "resources": "EXCLUDE (source_file)"}  # the first file seen: groups run side by side

_ATTR_TYPES = "list_transform(map_values({}), v -> variant_typeof(v))"
TYPES = {
    "resources": _ATTR_TYPES.format("r.attributes"),
    "metric_points": _ATTR_TYPES.format("r.attributes"),
    "logs": _ATTR_TYPES.format("r.attributes") + " || [variant_typeof(r.body)]",
    "spans": _ATTR_TYPES.format("r.attributes") + " || flatten(list_transform(r.events, e -> "
             + _ATTR_TYPES.format("e.attributes") + "))",
}


def kv(key: str, value: dict) -> dict:
    return {"key": key, "value": value}


def every_value() -> list[dict]:
    return [
        kv("s", {"stringValue": "caf\u00e9 \"quoted\" \\ \t tab \U0001f600"}),
        kv("i", {"intValue": str(2**63 - 1)}), kv("neg", {"intValue": "-42"}),
        kv("d", {"doubleValue": 0.1}), kv("d_int", {"doubleValue": 3}),
        kv("d_neg0", {"doubleValue": -0.0}), kv("d_big", {"doubleValue": 1.7976931348623157e308}),
        kv("b", {"boolValue": False}), kv("bytes", {"bytesValue": "aGVsbG8="}),
        kv("bad_bytes", {"bytesValue": "not base64!"}),
        kv("arr", {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "7"},
                                             {"doubleValue": 2.5}, {"boolValue": True},
                                             {"bytesValue": "eA=="}, {}]}}),
        kv("arr_empty", {"arrayValue": {}}), kv("empty", {}),
        kv("agent", {"stringValue": "agent-1"}), kv("process.pid", {"intValue": "4242"}),
    ]


def resource(n: int) -> dict:
    return {"attributes": [kv("service.name", {"stringValue": f"svc-{n}"}),
                           kv("session.id", {"stringValue": "every-kind"}),
                           kv("process.pid", {"intValue": str(1000 + n)}),
                           kv("swarm.host.memory_total", {"intValue": "25275990016"}),
                           kv("ratio", {"doubleValue": 0.5})],
            "droppedAttributesCount": 0}


def spans_line(n: int) -> dict:
    spans = []
    for i in range(4):
        spans.append({
            "traceId": TRACE.upper() if i == 1 else TRACE, "spanId": f"{n * 10 + i + 1:016x}",
            "parentSpanId": "" if i == 0 else f"{n * 10 + i:016x}", "traceState": "k=v",
            "flags": 256, "name": f"op {n}.{i}", "kind": i, "droppedAttributesCount": 0,
            "startTimeUnixNano": str(TS + i), "endTimeUnixNano": str(TS + 1000 + i),
            "attributes": every_value() + [kv("gen_ai.agent.id", {"stringValue": f"a{i}"})],
            "events": [{"timeUnixNano": str(TS + 5), "name": "exception",
                        "attributes": [kv("exception.message", {"stringValue": "boom"})]},
                       {"timeUnixNano": "0", "name": "no time"}],
            "droppedEventsCount": 0,
            "links": [{"traceId": TRACE, "spanId": "00f067aa0ba902b7", "traceState": "",
                       "attributes": [kv("l", {"intValue": "1"})], "flags": 0}],
            "status": {"code": i % 3, "message": "msg" if i else ""},
        })
    return {"resourceSpans": [{"resource": resource(n), "schemaUrl": "https://s/1.26.0",
                               "scopeSpans": [{"scope": {"name": "lib", "version": "1.0",
                                                         "attributes": []},
                                               "schemaUrl": "", "spans": spans[:2]},
                                              {"scope": {"name": "other"}, "spans": spans[2:]}]},
                              {"resource": resource(n + 100), "scopeSpans": []}]}


def point(i: int, **values) -> dict:
    return {"attributes": [kv("process.pid", {"intValue": str(7 + i)}),
                           kv("cpu.mode", {"stringValue": "user"})],
            "startTimeUnixNano": str(TS), "timeUnixNano": str(TS + i * 1_000_000_000),
            **values}


def metrics_line(n: int) -> dict:
    metrics = [
        {"name": "g.int", "unit": "By", "description": "d",
         "gauge": {"dataPoints": [point(i, asInt=str(i * 2**40)) for i in range(3)]}},
        {"name": "g.double", "gauge": {"dataPoints": [point(0, asDouble=0.25),
                                                      point(1, asDouble=1e-300)]}},
        {"name": "s.mono", "unit": "s", "sum": {"dataPoints": [point(0, asDouble=1.5)],
                                                "aggregationTemporality": 2,
                                                "isMonotonic": True}},
        {"name": "s.delta", "sum": {"dataPoints": [point(0, asInt="-3", flags=1)],
                                    "aggregationTemporality": 1}},
        {"name": "s.none", "sum": {"dataPoints": [point(0, asInt="1")]}},
        {"name": "h", "histogram": {"dataPoints": [point(0, count="6", sum=2.5, min=0.1,
                                                         max=1.9, bucketCounts=["1", "2", "3"],
                                                         explicitBounds=[0.5, 1.0])],
                                    "aggregationTemporality": 2}},
        {"name": "eh", "exponentialHistogram": {"dataPoints": [point(
            0, count=str(2**64 - 1), sum=10.0, scale=-3, zeroCount="2", zeroThreshold=1e-9,
            positive={"offset": -2, "bucketCounts": ["4", "5"]},
            negative={"offset": 1, "bucketCounts": []})], "aggregationTemporality": 1}},
        {"name": "sm", "summary": {"dataPoints": [point(0, count="3", sum=6.0,
                                                        quantileValues=[{"quantile": 0.5,
                                                                         "value": 2.0},
                                                                        {"value": 3.0}])]}},
        {"name": "empty.gauge", "gauge": {}},
    ]
    return {"resourceMetrics": [{"resource": resource(n),
                                 "scopeMetrics": [{"scope": {"name": "swarmscope",
                                                             "version": "0.1"},
                                                   "metrics": metrics}]}]}


def logs_line(n: int) -> dict:
    bodies = [{"stringValue": "hello"}, {"intValue": "5"}, {"doubleValue": 0.5},
              {"boolValue": True}, {"arrayValue": {"values": [{"stringValue": "x"}]}}, {}]
    records = [{"timeUnixNano": str(TS + i) if i % 2 else "0",
                "observedTimeUnixNano": str(TS + 10 + i), "severityNumber": 9 + i,
                "severityText": "INFO", "body": body,
                "attributes": [kv("swarm.agent.id", {"stringValue": f"agent-{i}"})],
                "flags": 1, "traceId": TRACE if i == 0 else "", "spanId": "00f067aa0ba902b7"
                if i == 0 else "", "eventName": "e" if i == 1 else ""}
               for i, body in enumerate(bodies)]
    return {"resourceLogs": [{"resource": resource(n),
                              "scopeLogs": [{"scope": {"name": "log"}, "logRecords": records}]}]}


def write_every_kind(folder: Path) -> Path:
    folder.mkdir(parents=True)
    lines = [spans_line(n) if n % 3 == 0 else metrics_line(n) if n % 3 == 1 else logs_line(n)
             for n in range(30)]
    mixed = {**spans_line(99), **metrics_line(99), **logs_line(99)}
    (folder / "every.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (folder / "mixed.jsonl").write_text(json.dumps(mixed) + "\n")
    (folder / "document.json").write_text(json.dumps(metrics_line(7), indent=2))
    return folder


def record_sdk(folder: Path) -> Path:
    """Files of a real, short session of the embedded default (spans, metrics, logs)."""
    code = ("import sys, time, swarmscope\n"
            f"swarmscope.init(service_name='arrow-test', data_dir={str(folder)!r}, "
            "sample_interval=0.2)\n"
            "agent = swarmscope.spawn_agent('worker', [sys.executable, '-c', "
            "'import time; time.sleep(1.5)'])\n"
            "with agent.task('write'):\n    time.sleep(1.2)\n"
            "agent.terminate()\n"
            "swarmscope.shutdown()\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    return folder


def both_readers(corpus: Path, root: Path) -> tuple[Path, Path]:
    out = []
    for use_arrow in (True, False):
        target = root / ("arrow" if use_arrow else "sql")
        ingest([corpus], target, progress=False, arrow=use_arrow)
        out.append(db.database_path(target))
    return out[0], out[1]


def assert_same_tables(arrow_db: Path, sql_db: Path) -> dict[str, int]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{arrow_db}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{sql_db}' AS b (READ_ONLY)")
    counts = {}
    for table in ("resources", "spans", "metric_points", "logs", "ingest_errors",
                  "ingested_files"):
        cols = VOLATILE.get(table, "")
        for x, y in (("a", "b"), ("b", "a")):
            # as JSON text (VARIANT values of different types cannot be compared), with the
            # types of the values, which the text does not show
            row = f"to_json(r), {TYPES.get(table, 'NULL')}"
            differ = con.execute(
                f"SELECT {row} FROM (SELECT * {cols} FROM {x}.{table}) r EXCEPT ALL "
                f"SELECT {row} FROM (SELECT * {cols} FROM {y}.{table}) r").fetchall()
            assert differ == [], f"{table}: rows only the {x} reader stored: {differ[:3]}"
        counts[table] = con.execute(f"SELECT count(*) FROM a.{table}").fetchone()[0]
    con.close()
    return counts


def accepted(path: Path) -> bool:
    """Whether the Arrow reader takes the file's lines (as one group)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        data = (json.dumps(json.loads(data), separators=(",", ":")) + "\n").encode()
    con = duckdb.connect()
    ingest_load.prepare(con)
    try:
        ingest_arrow.load(con, [ingest_arrow.Region(str(path), 1, data, data.count(b"\n"))])
        return True
    except ingest_arrow.Refused:
        return False
    finally:
        con.close()


def test_every_kind_of_record_and_value_is_stored_alike(tmp_path: Path) -> None:
    corpus = write_every_kind(tmp_path / "in")
    assert all(accepted(f) for f in corpus.iterdir())
    counts = assert_same_tables(*both_readers(corpus, tmp_path))
    assert counts["spans"] == 44 and counts["logs"] == 66 and counts["ingest_errors"] == 0
    assert counts["metric_points"] == 11 * 12


def test_a_real_sdk_recording_is_stored_alike(tmp_path: Path) -> None:
    corpus = record_sdk(tmp_path / "in")
    files = [f for f in corpus.rglob("*.jsonl")]
    assert {f.name.split(".")[0] for f in files} >= {"traces", "metrics"}
    assert all(accepted(f) for f in files)
    counts = assert_same_tables(*both_readers(corpus, tmp_path))
    assert counts["spans"] > 0 and counts["metric_points"] > 0


def test_points_repeating_attribute_lists_share_one_map(tmp_path: Path) -> None:
    """What makes the Arrow reader cheap on metrics: a map per distinct attribute list. The
    every-kind corpus repeats two lists per point value, so sets are fewer than points, and
    every point's set holds its own list."""
    data = (write_every_kind(tmp_path / "in") / "every.jsonl").read_bytes()
    con = duckdb.connect()
    ingest_load.prepare(con)
    loaded = ingest_arrow.load(con, [ingest_arrow.Region("f", 1, data, data.count(b"\n"))])
    points = loaded.records["_arrow_points"]
    sets = con.execute("SELECT attr_id, kvs FROM _arrow_attr_sets ORDER BY attr_id").fetchall()
    assert 1 < len(sets) < points.num_rows
    own = points.column("p").combine_chunks().field("attributes").to_pylist()
    ids = points.column("attr_id").to_pylist()
    assert all(sets[i][1] == kvs for i, kvs in zip(ids, own, strict=True))


def test_the_official_examples_are_stored_alike(tmp_path: Path) -> None:
    if not EXAMPLES.exists():
        pytest.skip("official OTLP examples not available")
    assert accepted(EXAMPLES / "trace.json") and accepted(EXAMPLES / "metrics.json")
    assert not accepted(EXAMPLES / "logs.json")  # a kvlistValue: the SQL reader's
    counts = assert_same_tables(*both_readers(EXAMPLES, tmp_path))
    assert counts["spans"] == 1 and counts["metric_points"] == 3 and counts["logs"] == 1


def test_the_hostile_corpus_is_stored_and_reported_alike(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    for case in (g() for g in GENERATORS):
        (corpus / f"{case.name}.jsonl").write_bytes(case.data)
    counts = assert_same_tables(*both_readers(corpus, tmp_path))
    assert counts["ingest_errors"] > 0


def _refused_line(doc: dict | str) -> bytes:
    return ((doc if isinstance(doc, str) else json.dumps(doc)) + "\n").encode()


def _span_doc(**changes) -> dict:
    doc = spans_line(1)
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0].update(changes)
    return doc


LEFT_TO_SQL = {
    "an integer as a JSON number": _span_doc(attributes=[kv("n", {"intValue": 5})]),
    "an integer with a leading zero": _span_doc(attributes=[kv("n", {"intValue": "007"})]),
    "an integer out of range": _span_doc(attributes=[kv("n", {"intValue": str(2**63)})]),
    "a key twice": _span_doc(attributes=[kv("k", {"intValue": "1"}), kv("k", {"intValue": "2"})]),
    "a kvlist value": _span_doc(attributes=[kv("k", {"kvlistValue": {"values": []}})]),
    "an array in an array": _span_doc(attributes=[kv("k", {"arrayValue": {"values": [
        {"arrayValue": {"values": []}}]}})]),
    "a field OTLP does not have": _span_doc(colour="red"),
    "an enum by name": _span_doc(kind="SPAN_KIND_SERVER"),
    "an unknown kind": _span_doc(kind=9),
    "a bad span id": _span_doc(spanId="xyz"),
    "a timestamp out of range": _span_doc(startTimeUnixNano=str(2**64 - 1)),
    "a null span": {"resourceSpans": [{"scopeSpans": [{"spans": [None]}]}]},
    "a resource with an array": {"resourceSpans": [{"resource": {"attributes": [
        kv("a", {"arrayValue": {"values": []}})]}, "scopeSpans": []}]},
    "a line with no records": {"resourceSpans": []},
    "a metric of two types": {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "m", "gauge": {"dataPoints": []}, "sum": {"dataPoints": []}}]}]}]},
    "a metric without a name": {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"gauge": {"dataPoints": []}}]}]}]},
    "two objects on one line": json.dumps(spans_line(1)) + " " + json.dumps(spans_line(2)),
    "a NUL in a string": _span_doc(name="a\u0000b"),
    "a line over 1 MiB": _span_doc(name="x" * (1024 * 1024 + 1)),
    "not an object": "[1, 2]",
}


def _case_file(folder: Path, n: int, what: str) -> Path:
    path = folder / f"case-{n:02d}.jsonl"
    path.write_bytes(_refused_line(spans_line(5)) + _refused_line(LEFT_TO_SQL[what]))
    return path


@pytest.mark.parametrize("what", sorted(LEFT_TO_SQL))
def test_what_the_sql_reader_reads_differently_is_left_to_it(tmp_path: Path, what: str) -> None:
    assert not accepted(_case_file(tmp_path, 0, what))


def test_what_is_left_to_the_sql_reader_is_stored_and_reported_alike(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    for n, what in enumerate(sorted(LEFT_TO_SQL)):
        _case_file(corpus, n, what)
    counts = assert_same_tables(*both_readers(corpus, tmp_path))
    assert counts["spans"] >= 4 * len(LEFT_TO_SQL) and counts["ingest_errors"] > 0


def test_the_arrow_types_match_the_sql_shape() -> None:
    """Every field ingest_shape.sql reads has its name in the Arrow schema, and no other."""
    con = duckdb.connect()
    ingest_load.prepare(con)
    sql_shape = con.execute("SELECT otlp_document_structure()").fetchone()[0]
    con.close()

    def names(t: pa.DataType, into: set[str]) -> set[str]:
        if pa.types.is_struct(t):
            for f in t:
                into.add(f.name)
                names(f.type, into)
        elif pa.types.is_list(t):
            names(t.value_type, into)
        return into

    arrow = set()
    for f in ingest_arrow.SCHEMA:
        arrow.add(f.name)
        names(f.type, arrow)
    sql = set(re.findall(r'"([A-Za-z]+)"', sql_shape.replace("\\", "")))
    assert "resourceSpans" in sql and "bucketCounts" in sql
    read_not_stored = {"droppedAttributesCount", "droppedEventsCount", "droppedLinksCount",
                       "exemplars", "filteredAttributes", "metadata",
                       "values"}  # of an arrayValue, which the SQL reader reads as JSON
    assert arrow - read_not_stored <= sql
    assert sql - arrow <= {"kvlistValue"}
