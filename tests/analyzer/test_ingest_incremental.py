"""Incremental, idempotent ingest: only what was appended is read, nothing is stored twice."""

from __future__ import annotations

import json
from pathlib import Path

from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest


def line(n: int, spans: int = 2) -> str:
    """One TracesData line holding ``spans`` spans numbered from n * 100."""
    out = [{"traceId": f"{n:032x}", "spanId": f"{n * 100 + i + 1:016x}", "name": f"s{n}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
            "endTimeUnixNano": str(1_700_000_000_000_000_000 + n + 5)} for i in range(spans)]
    res = {"attributes": [{"key": "session.id", "value": {"stringValue": "inc"}}]}
    return json.dumps({"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": out}]}]})


def span_count(data_dir: Path) -> int:
    con = db.connect(data_dir, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM spans").fetchone()[0]
    finally:
        con.close()


def test_reingest_after_append_adds_exactly_the_new_rows(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    f = data_dir / "sdk" / "traces.host.1.1.jsonl"
    f.parent.mkdir()
    f.write_text(line(1) + "\n" + line(2) + "\n")
    first = ingest(None, data_dir)
    assert (first.rows_added["spans"], first.lines_read) == (4, 2)

    twice = ingest(None, data_dir)
    assert twice.total_rows == 0 and twice.files_unchanged == 1 and twice.lines_read == 0
    assert span_count(data_dir) == 4

    partial = line(4)
    with f.open("a") as fh:  # one whole new line and half of the next one
        fh.write(line(3, spans=3) + "\n" + partial[:25])
    grown = ingest(None, data_dir)
    assert (grown.rows_added["spans"], grown.lines_read) == (3, 1)
    assert grown.pending_bytes == 25
    assert span_count(data_dir) == 7

    with f.open("a") as fh:  # the writer finishes the line
        fh.write(partial[25:] + "\n")
    done = ingest(None, data_dir)
    assert (done.rows_added["spans"], done.lines_read, done.pending_bytes) == (2, 1, 0)

    con = db.connect(data_dir, read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT span_id) FROM spans").fetchone() == (9, 9)
    # line numbers continue across runs
    assert con.execute(
        "SELECT DISTINCT name, source_line FROM spans ORDER BY source_line").fetchall() == [
        ("s1", 1), ("s2", 2), ("s3", 3), ("s4", 4)]
    assert con.execute("SELECT byte_offset, line_count FROM ingested_files").fetchone() == (
        f.stat().st_size, 4)
    # one resource row however often it was seen
    assert con.execute("SELECT count(*) FROM resources").fetchone() == (1,)


def test_complete_last_line_without_newline_is_read_once(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    f = data_dir / "t.jsonl"
    f.write_text(line(1) + "\n" + line(2))  # no trailing newline, but a whole object
    assert ingest(None, data_dir).rows_added["spans"] == 4
    with f.open("a") as fh:
        fh.write("\n" + line(3) + "\n")
    assert ingest(None, data_dir).rows_added["spans"] == 2
    assert span_count(data_dir) == 6


def test_replaced_file_is_read_from_the_start(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    f = data_dir / "collector" / "traces.jsonl"
    f.parent.mkdir()
    f.write_text(line(1) + "\n" + line(2) + "\n")
    ingest(None, data_dir)
    f.write_text(line(7) + "\n")  # truncated and rewritten (e.g. a restart without append)
    again = ingest(None, data_dir)
    assert again.rows_added["spans"] == 2
    con = db.connect(data_dir, read_only=True)
    assert con.execute("SELECT generation, line_count FROM ingested_files").fetchone() == (1, 1)
    assert con.execute("SELECT count(*) FROM spans").fetchone() == (6,)  # earlier rows kept


def test_new_files_are_picked_up_and_documents_read_once(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "a.jsonl").write_text(line(1) + "\n")
    doc = json.loads(line(2))
    (data_dir / "doc.json").write_text(json.dumps(doc, indent=2))  # pretty-printed
    first = ingest(None, data_dir)
    assert first.rows_added["spans"] == 4 and first.files_read == 2
    (data_dir / "b.jsonl").write_text(line(3) + "\n")
    second = ingest(None, data_dir)
    assert (second.files_read, second.files_unchanged, second.rows_added["spans"]) == (1, 2, 2)
    assert span_count(data_dir) == 6
    # a rewritten document is read again; the file's signal is told by its content
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"].append(
        json.loads(line(5, spans=1))["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
    (data_dir / "doc.json").write_text(json.dumps(doc, indent=2))
    assert ingest(None, data_dir).rows_added["spans"] == 3
    con = db.connect(data_dir, read_only=True)
    assert con.execute("SELECT DISTINCT signal FROM ingested_files").fetchall() == [("traces",)]
    assert con.execute(
        "SELECT generation, format FROM ingested_files WHERE path LIKE '%doc.json'"
    ).fetchone() == (1, "document")


def test_appends_to_several_files_keep_each_files_line_numbers(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    files = [data_dir / f"p{i}.jsonl" for i in range(3)]
    for i, f in enumerate(files):
        f.write_text(line(10 * i + 1) + "\n" + line(10 * i + 2) + "\n")
    assert ingest(None, data_dir).rows_added["spans"] == 12
    for i, f in enumerate(files):
        with f.open("a") as fh:
            fh.write(line(10 * i + 3) + "\n")
    assert ingest(None, data_dir).rows_added["spans"] == 6
    con = db.connect(data_dir, read_only=True)
    got = con.execute(
        "SELECT DISTINCT regexp_extract(source_file, 'p[0-9]'), name, source_line FROM spans"
        " ORDER BY ALL").fetchall()
    assert got == [(f"p{i}", f"s{10 * i + n}", n) for i in range(3) for n in (1, 2, 3)]


def test_a_large_file_is_read_in_parts(data_dir: Path, monkeypatch) -> None:
    from swarmscope.analyzer import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "GROUP_BYTES", 3000)  # a few lines per part
    data_dir.mkdir(parents=True)
    big = data_dir / "collector" / "traces.jsonl"
    big.parent.mkdir()
    big.write_text("".join(line(n) + "\n" for n in range(1, 21)))
    (data_dir / "small.jsonl").write_text(line(99) + "\n")
    first = ingest(None, data_dir)
    assert first.errors == []
    assert (first.rows_added["spans"], first.files_read, first.lines_read) == (42, 2, 21)
    with big.open("a") as fh:
        fh.write("".join(line(n) + "\n" for n in range(21, 31)))
    assert ingest(None, data_dir).rows_added["spans"] == 20
    con = db.connect(data_dir, read_only=True)
    got = con.execute("SELECT DISTINCT name, source_line FROM spans WHERE source_file LIKE"
                      " '%traces.jsonl' ORDER BY source_line").fetchall()
    assert got == [(f"s{n}", n) for n in range(1, 31)]
    assert con.execute("SELECT line_count, byte_offset FROM ingested_files"
                       " WHERE path LIKE '%traces.jsonl'").fetchone() == (30, big.stat().st_size)
