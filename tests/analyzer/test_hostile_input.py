"""Hostile input: each class of bad telemetry (tests/analyzer/hostile_corpus.py) mixed with
valid records. Every valid record is kept and counted exactly, every bad one is reported
with file, line, field and reason (in ingest_errors and on stderr), and the commands that
read the database afterwards still work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hostile_corpus import GENERATORS, Case
from swarmscope import conventions as C

CLI = [sys.executable, "-m", "swarmscope.cli"]


def run(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "SWARMSCOPE_DATA_DIR": str(data_dir)}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                            timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case], str]:
    """The whole corpus, one file per class, ingested once by the CLI."""
    root = tmp_path_factory.mktemp("hostile")
    corpus, data = root / "in", root / "data"
    corpus.mkdir()
    cases = [g() for g in GENERATORS]
    for case in cases:
        (corpus / f"{case.name}.jsonl").write_bytes(case.data)
    result = run("ingest", str(corpus), data_dir=data)
    assert result.returncode == 0, result.stderr
    return data, cases, result.stderr


def _db(data: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data / C.DATABASE_FILE), read_only=True)


@pytest.mark.parametrize("name", [g.__name__ for g in GENERATORS])
def test_valid_records_are_kept_and_bad_ones_reported(hostile, name: str) -> None:
    data, cases, _ = hostile
    case = next(c for c in cases if c.name == name)
    con = _db(data)
    stored = con.execute("SELECT span_id, count(*) FROM spans WHERE source_file LIKE ? "
                         "GROUP BY ALL", [f"%/{name}.jsonl"]).fetchall()
    errors = con.execute("SELECT source_line, reason FROM ingest_errors WHERE source_file "
                         "LIKE ? ORDER BY 1", [f"%/{name}.jsonl"]).fetchall()
    con.close()
    assert {s for s, _ in stored} == case.kept
    assert all(n == 1 for _, n in stored)  # counted exactly: nothing twice
    by_line: dict[int, list[str]] = {}
    for line_no, reason in errors:
        by_line.setdefault(line_no, []).append(reason)
    for line_no, fragment in case.reported.items():
        assert any(fragment in r for r in by_line.get(line_no, [])), (line_no, by_line)
    assert set(by_line) == set(case.reported)  # and nothing else is reported
    for reasons in by_line.values():
        for r in reasons:
            assert len(r) < 400 and not any(ord(ch) < 32 for ch in r), r


def test_stderr_names_file_line_and_reason(hostile) -> None:
    _, _, stderr = hostile
    assert "out_of_range.jsonl:2: span: endTimeUnixNano 18446744073709551615" in stderr
    assert "\x1b" not in stderr and "\x01" not in stderr


def test_limits_are_applied_with_a_marker(hostile) -> None:
    data, _, _ = hostile
    con = _db(data)
    big = con.execute("SELECT attributes['big']::VARCHAR FROM spans "
                      "WHERE span_id = '0000000000000001' AND source_file LIKE '%oversized%'"
                      ).fetchone()[0]
    assert big.endswith("…[swarmscope: truncated, 2097152 bytes]")
    deep = con.execute("SELECT attributes['deep']::VARCHAR FROM spans WHERE span_id = "
                       "'0000000000000f3c' AND source_file LIKE '%deep%'").fetchone()[0]
    assert "swarm.truncated" in deep and len(deep) < 1000
    con.close()


def test_later_commands_still_work(hostile) -> None:
    data, _, _ = hostile
    every = run("sql", "SELECT * FROM spans", "--format", "json", data_dir=data)
    assert every.returncode == 0, every.stderr
    rows = json.loads(every.stdout)
    assert len(rows) == sum(len(c.kept) for c in hostile[1])
    table = run("sql", "SELECT * FROM spans WHERE span_id = '0000000000000001'",
                data_dir=data)
    assert table.returncode == 0 and "\x1b" not in table.stdout
    report = run("report", "--format", "json", "--no-ingest", data_dir=data)
    assert report.returncode == 0, report.stderr
    json.loads(report.stdout)
    check = run("check", "--min-grade", "F", "--no-ingest", data_dir=data)
    assert check.returncode in (0, 1), check.stderr
    again = run("ingest", data_dir=data)  # nothing reported twice, nothing new read
    assert again.returncode == 0 and "problem" not in again.stderr
