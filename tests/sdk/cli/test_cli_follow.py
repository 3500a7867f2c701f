"""``swarmscope ingest --follow`` keeps up with files that grow, leaves the database free
between rounds (a read-only query succeeds meanwhile) and ends on SIGTERM with exit code 0
and no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def _line(n: int) -> str:
    span = {"traceId": "ab" * 16, "spanId": f"{n + 1:016x}", "name": f"s{n}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
            "endTimeUnixNano": str(1_700_000_000_000_000_100 + n)}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "session.id", "value": {"stringValue": "follow"}}]},
        "scopeSpans": [{"spans": [span]}]}]}) + "\n"


def _spans(data_dir: Path) -> int | None:
    try:
        con = duckdb.connect(str(data_dir / "swarmscope.duckdb"), read_only=True)
    except duckdb.Error:
        return None  # being written this very moment, or not created yet
    try:
        return con.execute("SELECT count(*) FROM spans").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def _wait_for(data_dir: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _spans(data_dir) == count:
            return
        time.sleep(0.2)
    raise AssertionError(f"spans never reached {count}: {_spans(data_dir)}")


def test_follow_keeps_up_and_stops_cleanly(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    growing = data_dir / "traces.jsonl"
    growing.write_text("".join(_line(i) for i in range(10)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarmscope.cli", "ingest", "--follow", "--interval", "0.3",
         "-d", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ})
    try:
        _wait_for(data_dir, 10)
        with growing.open("a") as fh:
            fh.write("".join(_line(i) for i in range(10, 25)))
            fh.write(_line(25)[:40])  # a line still being written waits for its end
        _wait_for(data_dir, 25)
        with growing.open("a") as fh:
            fh.write(_line(25)[40:])
        (data_dir / "late.jsonl").write_text(_line(26))  # a file that appears later
        _wait_for(data_dir, 27)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped after" in err
    assert "rows from" in out
