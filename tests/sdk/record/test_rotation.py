"""Rotation of the embedded default's files: by size and by age, between whole lines only, and
ingest reads every rotated file once (no line lost, none stored twice)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from swarmscope.archive import open_archive
from swarmscope.record import rotation
from swarmscope.record.rotation import RotatingFile, rotated_name
from swarmscope.settings import ConfigError, rotation_limits


def test_names_keep_the_pattern_and_sort_in_write_order(tmp_path: Path) -> None:
    first = tmp_path / "traces.host.12.1700000000000000000.jsonl"
    names = [rotated_name(first, i).name for i in range(12)]
    assert names[1] == "traces.host.12.1700000000000000000.r000001.jsonl"
    assert sorted(names) == names


def test_size_rotation_splits_between_lines_only(tmp_path: Path) -> None:
    first = tmp_path / "metrics.h.1.5.jsonl"
    stream = RotatingFile(first, max_bytes=300, max_age_s=0)
    lines = [json.dumps({"n": i, "pad": "x" * (i % 40)}) + "\n" for i in range(500)]
    for line in lines:
        stream.write(line)
    stream.close()
    files = sorted(tmp_path.glob("metrics.h.1.5*.jsonl"))
    assert len(files) > 50
    assert files[0] == first
    for f in files:
        assert f.stat().st_size <= 300 or f.read_text().count("\n") == 1
    joined = "".join(f.read_text() for f in files)
    assert joined == "".join(lines)


def test_at_close_the_last_file_is_archived_only_once_the_stream_rotated(
        tmp_path: Path) -> None:
    rotated = RotatingFile(tmp_path / "long.jsonl", max_bytes=100, max_age_s=0, archive=True)
    short = RotatingFile(tmp_path / "short.jsonl", max_bytes=100, max_age_s=0, archive=True)
    for i in range(20):
        rotated.write(json.dumps({"n": i}) + "\n")
    short.write("{}\n")
    rotated.close()
    short.close()
    assert sorted(p.name for p in tmp_path.glob("long*")) == [
        rotated_name(tmp_path / "long.jsonl", i).name + ".zst" for i in range(rotated.sequence + 1)]
    assert [p.name for p in tmp_path.glob("short*")] == ["short.jsonl"]
    unpacked = b"".join(open_archive(p).read() for p in sorted(tmp_path.glob("long*")))
    assert unpacked.decode() == "".join(json.dumps({"n": i}) + "\n" for i in range(20))


def test_age_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(rotation.time, "monotonic", lambda: clock[0])
    stream = RotatingFile(tmp_path / "t.jsonl", max_bytes=0, max_age_s=60)
    stream.write("{}\n")
    clock[0] += 59
    stream.write("{}\n")
    clock[0] += 2
    stream.write("{}\n")  # the file is 61 s old: this line starts the next one
    stream.close()
    assert [p.read_text().count("\n") for p in sorted(tmp_path.iterdir())] == [2, 1]


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rotation_limits() == (16_000_000, 6 * 3600.0)
    monkeypatch.setenv("SWARMSCOPE_ROTATE_MB", "0.5")
    monkeypatch.setenv("SWARMSCOPE_ROTATE_HOURS", "0")
    assert rotation_limits() == (500_000, 0.0)
    monkeypatch.setenv("SWARMSCOPE_ROTATE_MB", "lots")
    with pytest.raises(ConfigError, match="SWARMSCOPE_ROTATE_MB"):
        rotation_limits()
    monkeypatch.setenv("SWARMSCOPE_ROTATE_MB", "-1")
    with pytest.raises(ConfigError, match="SWARMSCOPE_ROTATE_MB"):
        rotation_limits()


SPANS = 400
PROGRAM = textwrap.dedent(f"""
    import time
    import swarmscope
    from opentelemetry import trace
    t = swarmscope.init(service_name="rot", sample_interval=0.05)
    tracer = trace.get_tracer("test")
    for i in range({SPANS}):
        with tracer.start_as_current_span("work", attributes={{"n": i}}):
            pass
        if i % 20 == 0:
            t.tracer_provider.force_flush()
            time.sleep(0.05)  # lets metric exports happen meanwhile
    swarmscope.shutdown()
""")


def test_sdk_rotates_and_ingest_reads_every_line_once(data_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMSCOPE_ROTATE_MB", "0.004")  # 4 KB files
    monkeypatch.setenv("SWARMSCOPE_ARCHIVE_ROTATED", "0")  # plain files (archives: below)
    subprocess.run([sys.executable, "-c", PROGRAM], check=True, timeout=120)
    traces = sorted((data_dir / "sdk").glob("traces.*.jsonl"))
    metrics = sorted((data_dir / "sdk").glob("metrics.*.jsonl"))
    assert len(traces) > 5 and len(metrics) > 1
    numbers = []
    for f in traces:
        for line in f.read_text().splitlines():
            doc = json.loads(line)  # every line whole
            for rs in doc["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        numbers += [int(a["value"]["intValue"]) for a in span["attributes"]
                                    if a["key"] == "n"]
    assert sorted(numbers) == list(range(SPANS))

    from swarmscope.analyzer.db import connect
    from swarmscope.analyzer.ingest import ingest

    ingest(None, data_dir, progress=False)
    ingest(None, data_dir, progress=False)  # a second run adds nothing
    con = connect(data_dir, read_only=True)
    try:
        count, distinct = con.execute(
            "SELECT count(*), count(DISTINCT attributes['n']::BIGINT) FROM spans "
            "WHERE name = 'work'").fetchone()
        files = con.execute("SELECT count(*) FROM ingested_files").fetchone()[0]
    finally:
        con.close()
    assert (count, distinct) == (SPANS, SPANS)
    assert files == len(traces) + len(metrics)


def _numbers(lines: list[str]) -> list[int]:
    found = []
    for line in lines:
        for rs in json.loads(line)["resourceSpans"]:  # every line whole
            for ss in rs["scopeSpans"]:
                found += [int(a["value"]["intValue"]) for span in ss["spans"]
                          for a in span["attributes"] if a["key"] == "n"]
    return found


def test_rotated_files_are_archived_and_ingest_reads_them_once(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMSCOPE_ROTATE_MB", "0.004")  # archives on: the default
    subprocess.run([sys.executable, "-c", PROGRAM], check=True, timeout=120)
    sdk = data_dir / "sdk"
    archives = sorted(sdk.glob("traces.*.jsonl.zst"))
    assert len(archives) > 5 and not list(sdk.glob("*.partial"))
    # the file being written when the program ended is archived at shutdown as well
    assert not list(sdk.glob("traces.*.jsonl"))
    lines = [ln for a in archives for ln in open_archive(a).read().decode().splitlines()]
    assert sorted(_numbers(lines)) == list(range(SPANS))

    from swarmscope.analyzer.db import connect
    from swarmscope.analyzer.ingest import ingest

    ingest(None, data_dir, progress=False)
    again = ingest(None, data_dir, progress=False)  # held whole: nothing unpacked or added
    assert sum(again.rows_added.values()) == 0
    con = connect(data_dir, read_only=True)
    try:
        count, distinct = con.execute(
            "SELECT count(*), count(DISTINCT attributes['n']::BIGINT) FROM spans "
            "WHERE name = 'work'").fetchone()
        paths = [r[0] for r in con.execute("SELECT path FROM ingested_files").fetchall()]
    finally:
        con.close()
    assert (count, distinct) == (SPANS, SPANS)
    assert not [p for p in paths if p.endswith(".zst")]  # archives are read as their files
