"""Broken input is counted and reported by file, line and reason; the valid rest lands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from swarmscope.analyzer import db
from swarmscope.analyzer import ingest as ingest_module
from swarmscope.analyzer.ingest import ingest

TS = "1700000000000000000"


def span(span_id: str, name: str = "ok", **extra) -> dict:
    s = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": span_id, "name": name,
         "startTimeUnixNano": TS, "endTimeUnixNano": TS}
    s.update(extra)
    return s


def traces(*spans: dict, attrs: list | None = None) -> str:
    res = {"attributes": attrs or [{"key": "session.id", "value": {"stringValue": "broken"}}]}
    scopes = [{"spans": list(spans)}]
    return json.dumps({"resourceSpans": [{"resource": res, "scopeSpans": scopes}]})


def gauge_metric(name: str) -> dict:
    return {"name": name, "gauge": {"dataPoints": [{"timeUnixNano": TS, "asDouble": 1.5}]}}


def metrics(*ms: dict) -> str:
    return json.dumps({"resourceMetrics": [{"resource": {}, "scopeMetrics": [
        {"metrics": list(ms)}]}]})


def test_broken_corpus_is_reported_and_the_rest_ingested(data_dir: Path) -> None:
    corpus = data_dir / "in"
    corpus.mkdir(parents=True)
    huge = "x" * (5 * 1024 * 1024)
    lines = [
        traces(span("0000000000000001", attributes=[                         # 1 ok, but
            {"key": "k", "value": {"intValue": "1"}},                         # a duplicate
            {"key": "k", "value": {"intValue": "2"}},                         # key and
            {"value": {"stringValue": "no key"}}])),                          # none
        '{"resourceSpans": [{"resource": ',                                   # 2 invalid JSON
        metrics(gauge_metric("good.gauge"), {"name": "weird", "foo": {}}),    # 3 unknown type
        traces(span("0000000000000002"), span("0000000000000003",
               traceId=12345)),                                               # 4 wrong type
        traces(span("0000000000000004", startTimeUnixNano="yesterday")),     # 5 wrong type
        traces({"traceId": "0af7651916cd43dd8448eb211c80319c", "name": "no id",
                "startTimeUnixNano": TS, "endTimeUnixNano": TS}),             # 6 missing key
        traces(span("0000000000000005", attributes=[
            {"key": "huge", "value": {"stringValue": huge}}])),               # 7 huge attribute
        "",                                                                   # 8 blank
        "[1, 2, 3]",                                                          # 9 not OTLP
        '{"unrelated": true}',                                                # 10 no OTLP keys
        traces(span("0000000000000006")),                                     # 11 ok
    ]
    mixed = corpus / "mixed.jsonl"
    mixed.write_text("\n".join(lines) + "\n" + traces(span("0000000000000007"))[:40])
    (corpus / "empty.jsonl").write_text("")
    (corpus / "blank.json").write_text("\n\n")
    bad_utf8 = corpus / "latin1.jsonl"
    bad_utf8.write_bytes(traces(span("0000000000000008")).encode() + b"\n"
                         + b'{"caf\xe9": 1}\n' + traces(span("0000000000000009")).encode() + b"\n")

    summary = ingest([corpus], data_dir)

    reported = {(Path(e.path).name, e.line): e.reason for e in summary.errors}
    assert reported[("mixed.jsonl", 2)].startswith("invalid JSON")
    assert "unknown metric type" in reported[("mixed.jsonl", 3)]
    assert "weird" in reported[("mixed.jsonl", 3)]
    assert reported[("mixed.jsonl", 4)] == "span: missing or invalid traceId"
    assert reported[("mixed.jsonl", 5)] == (
        'span: startTimeUnixNano is not an unsigned 64-bit integer: "yesterday"')
    assert reported[("mixed.jsonl", 6)] == "span: missing or invalid spanId"
    assert reported[("mixed.jsonl", 9)] == "not a JSON object but list"
    assert reported[("mixed.jsonl", 10)] == "no resourceSpans, resourceMetrics or resourceLogs"
    assert reported[("latin1.jsonl", 2)].startswith("not UTF-8")
    assert len(summary.errors) == 8  # the blank lines and empty files are not errors
    assert summary.pending_bytes == 40  # the truncated last line waits for the next run

    con = db.connect(data_dir, read_only=True)
    stored = dict(con.execute("SELECT span_id, source_line FROM spans").fetchall())
    assert stored == {
        "0000000000000001": 1, "0000000000000002": 4, "0000000000000005": 7,
        "0000000000000006": 11, "0000000000000008": 1, "0000000000000009": 3,
    }
    (kept,) = con.execute(
        "SELECT attributes['huge']::VARCHAR FROM spans WHERE span_id = '0000000000000005'"
    ).fetchone()  # strings over 1 MiB are cut, with a marker (docs/schema.md, "Limits")
    assert kept == "x" * 1048576 + f"…[swarmscope: truncated, {len(huge)} bytes]"
    assert con.execute("SELECT attributes FROM spans WHERE span_id = '0000000000000001'"
                       ).fetchone() == ({"k": 2, "": "no key"},)  # the last of a repeated key
    assert con.execute("SELECT metric_name, value FROM metric_points").fetchall() == [
        ("good.gauge", 1.5)]
    # the report is kept in the database too
    assert con.execute("SELECT count(*) FROM ingest_errors").fetchone() == (8,)
    con.close()

    # nothing is reported twice, and nothing new is read
    again = ingest([corpus], data_dir)
    assert again.errors == [] and again.total_rows == 0


@pytest.mark.parametrize("group_files", [1, 256], ids=["file-by-file", "grouped"])
def test_a_broken_file_does_not_stop_the_others(
    data_dir: Path, group_files: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one file per group: groups run side by side on their own connections
    monkeypatch.setattr(ingest_module, "GROUP_FILES", group_files)
    corpus = data_dir / "in"
    corpus.mkdir(parents=True)
    (corpus / "a.jsonl").write_text(traces(span("00000000000000aa")) + "\n")
    (corpus / "b.jsonl").write_text("garbage\n" * 3)
    (corpus / "c.json").write_text("{\n  \"resourceSpans\": [\n")  # truncated document
    for n in range(4):
        (corpus / f"d{n}.jsonl").write_text(traces(span(f"00000000000000d{n}")) + "\n")
    summary = ingest([corpus], data_dir)
    assert summary.rows_added["spans"] == 5
    assert summary.rows_added["resources"] == 1  # the same resource in every file
    assert {(Path(e.path).name, e.line) for e in summary.errors} == {
        ("b.jsonl", 1), ("b.jsonl", 2), ("b.jsonl", 3), ("c.json", 1), ("c.json", 2)}


def test_missing_or_unreadable_paths_are_named(data_dir: Path, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("swarmscope")
    missing = tmp_path / "nope.jsonl"
    result = subprocess.run([str(cli), "ingest", str(missing)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert str(missing) in result.stderr and "no such file" in result.stderr

    if os.geteuid() == 0:
        return  # root reads any file
    locked = tmp_path / "locked.jsonl"
    locked.write_text(traces(span("00000000000000bb")) + "\n")
    locked.chmod(0)
    try:
        result = subprocess.run([str(cli), "ingest", str(locked)], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2
        assert str(locked) in result.stderr and "not readable" in result.stderr
    finally:
        locked.chmod(0o644)


def test_cli_reports_skipped_lines(data_dir: Path) -> None:
    cli = Path(sys.executable).with_name("swarmscope")
    data_dir.mkdir(parents=True)
    (data_dir / "x.jsonl").write_text(traces(span("00000000000000cc")) + "\nnot json\n")
    result = subprocess.run([str(cli), "ingest"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 spans" in result.stdout
    assert "x.jsonl:2: invalid JSON" in result.stderr
    strict = subprocess.run([str(cli), "ingest", "--strict", str(data_dir / "x.jsonl")],
                            capture_output=True, text=True, timeout=60)
    assert strict.returncode == 0  # nothing new: nothing skipped this time
