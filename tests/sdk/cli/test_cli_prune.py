"""``swarmscope prune`` removes only what the database holds whole: files never ingested,
files appended to since, and files still open stay; a SIGKILL in the middle of a run loses
nothing (re-ingesting gives the counts of a reference ingest of the same files)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from swarmscope.analyzer.ingest import ingest
from swarmscope.cli import app
from typer.testing import CliRunner

OLD = time.time() - 10 * 86400


def _line(n: int) -> str:
    span = {"traceId": "cd" * 16, "spanId": f"{n + 1:016x}", "name": f"s{n}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
            "endTimeUnixNano": str(1_700_000_000_000_000_100 + n),
            "attributes": [{"key": "pad", "value": {"stringValue": "x" * 2000}}]}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "session.id", "value": {"stringValue": "prune"}}]},
        "scopeSpans": [{"spans": [span]}]}]}) + "\n"


def _write(path: Path, first: int, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("".join(_line(i) for i in range(first, first + count)))
    os.utime(path, (OLD, OLD))


def _count(data_dir: Path) -> tuple[int, int]:
    con = duckdb.connect(str(data_dir / "swarmscope.duckdb"), read_only=True)
    try:
        return con.execute("SELECT count(*), count(DISTINCT span_id) FROM spans").fetchone()
    finally:
        con.close()


def _corpus(data_dir: Path, files: int) -> None:
    """``files`` ingested files, then data the database does not hold: lines appended to
    some, and new files."""
    for i in range(files):
        _write(data_dir / "sdk" / f"traces.h.{i}.1.jsonl", i * 100, 20)
    ingest(None, data_dir, progress=False)
    for i in range(0, files, 7):
        _write(data_dir / "sdk" / f"traces.h.{i}.1.jsonl", i * 100 + 50, 3)  # appended since
    for i in range(5):
        _write(data_dir / "late" / f"new.{i}.jsonl", 10_000_000 + i * 100, 4)  # never ingested


def _reference(data_dir: Path, tmp: Path) -> tuple[int, int]:
    ref = tmp / "reference"
    shutil.copytree(data_dir, ref, ignore=shutil.ignore_patterns("swarmscope.duckdb*"))
    ingest(None, ref, progress=False)
    return _count(ref)


def test_dry_run_lists_and_prune_keeps_what_is_not_held(data_dir: Path, tmp_path: Path) -> None:
    _corpus(data_dir, 30)
    expected = _reference(data_dir, tmp_path)
    runner = CliRunner()
    dry = runner.invoke(app, ["prune", "--older-than", "7d", "--dry-run", "-d", str(data_dir)])
    assert dry.exit_code == 0, dry.output
    assert "would remove 25 file(s)" in dry.output and "kept 10 not fully ingested" in dry.output
    assert len(list(data_dir.rglob("*.jsonl"))) == 35  # a dry run changes nothing
    young = runner.invoke(app, ["prune", "--older-than", "30d", "-d", str(data_dir)])
    assert "removed 0 file(s)" in young.output
    with (data_dir / "sdk" / "traces.h.1.1.jsonl").open("rb"):  # an open file stays
        done = runner.invoke(app, ["prune", "--older-than", "7d", "-d", str(data_dir)])
    assert done.exit_code == 0 and "removed 24 file(s)" in done.output, done.output
    assert "1 still open" in done.output
    ingest(None, data_dir, progress=False)
    assert _count(data_dir) == expected


def test_bad_age_and_missing_database_are_errors(data_dir: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["prune", "--older-than", "soon", "-d", str(data_dir)])
    assert bad.exit_code == 2 and "--older-than" in bad.output
    data_dir.mkdir(parents=True)
    none = runner.invoke(app, ["prune", "--older-than", "1d", "-d", str(data_dir)])
    assert none.exit_code == 2 and "swarmscope ingest" in none.output
    assert "Traceback" not in bad.output + none.output


def test_sigkill_mid_prune_loses_nothing(data_dir: Path, tmp_path: Path) -> None:
    _corpus(data_dir, 400)
    expected = _reference(data_dir, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "swarmscope.cli", "prune", "--older-than",
                             "1d", "--compress", "-d", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((data_dir / "sdk").glob("*.zst"))) >= 20:  # well under way
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "prune finished before it could be killed"
    left = len(list((data_dir / "sdk").glob("*.jsonl")))
    assert 58 <= left < 400  # some went, the 58 with appended lines stayed
    ingest(None, data_dir, progress=False)
    assert _count(data_dir) == expected
    rerun = subprocess.run([sys.executable, "-m", "swarmscope.cli", "prune", "--older-than",
                            "1d", "--compress", "-d", str(data_dir)], capture_output=True,
                           text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(data_dir.rglob("*.partial"))
    ingest(None, data_dir, progress=False)
    assert _count(data_dir) == expected


def test_archives_count_as_the_files_they_hold(data_dir: Path, tmp_path: Path) -> None:
    """The sdk's archives of its rotated files: removed once held whole and old, kept when the
    file they hold is not held whole, never compressed again."""
    from swarmscope.archive import archive

    held, unread = data_dir / "sdk" / "traces.h.1.1.jsonl", data_dir / "sdk" / "traces.h.2.1.jsonl"
    _write(held, 0, 20)
    ingest(None, data_dir, progress=False)
    _write(unread, 100, 20)
    for f in (held, unread):
        packed = f.with_name(f.name + ".zst")
        archive(f)
        os.utime(packed, (OLD, OLD))
    runner = CliRunner()
    again = runner.invoke(app, ["prune", "--older-than", "7d", "--compress", "-d", str(data_dir)])
    assert again.exit_code == 0 and "0 file(s)" in again.output, again.output
    done = runner.invoke(app, ["prune", "--older-than", "7d", "-d", str(data_dir)])
    assert done.exit_code == 0 and "removed 1 file(s)" in done.output, done.output
    assert sorted(p.name for p in (data_dir / "sdk").iterdir()) == ["traces.h.2.1.jsonl.zst"]
    ingest(None, data_dir, progress=False)  # the archive not held is read now
    assert _count(data_dir) == (40, 40)
    # an archive that is none of ours, of a file the database holds: kept, no crash
    (data_dir / "sdk" / "traces.h.2.1.jsonl.zst").write_bytes(b"not zstd at all")
    os.utime(data_dir / "sdk" / "traces.h.2.1.jsonl.zst", (OLD, OLD))
    odd = runner.invoke(app, ["prune", "--older-than", "7d", "-d", str(data_dir)])
    assert odd.exit_code == 0 and "kept 1 not fully ingested" in odd.output, odd.output
