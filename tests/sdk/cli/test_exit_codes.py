"""Exit codes mean one thing each, and no user-facing condition ends in a traceback:
`swarmscope sql` cannot write by any route; `check` exits 1 only below the bar and 2 for
every error; a held lock, a read-only or full disk, special files and leftovers of a
killed run give a message."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from swarmscope import conventions as C

CLI = [sys.executable, "-m", "swarmscope.cli"]
TS = "1700000000000000000"


def run(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, C.ENV_DATA_DIR: str(data_dir), "COLUMNS": "200"}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                            timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def traces(n: int = 3) -> str:
    spans = [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": f"{i + 1:016x}",
              "name": "op", "startTimeUnixNano": TS, "endTimeUnixNano": TS} for i in range(n)]
    res = {"attributes": [{"key": "session.id", "value": {"stringValue": "codes"}}]}
    return json.dumps({"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": spans}]}]})


@pytest.fixture
def ingested(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "t.jsonl").write_text(traces() + "\n")
    assert run("ingest", data_dir=data_dir).returncode == 0
    return data_dir


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


WRITES = [
    "COPY (SELECT 1) TO '{d}/out.csv'",
    "COPY spans TO '{d}/swarmscope.duckdb'",
    "EXPORT DATABASE '{d}/export'",
    "IMPORT DATABASE '{d}'",
    "SET threads = 1",
    "RESET threads",
    "ATTACH '{d}/swarmscope.duckdb' AS rw (READ_WRITE); DELETE FROM rw.spans",
    "DETACH swarmscope",
    "USE memory",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CREATE TABLE t (a INT)",
    "DELETE FROM spans",
    "DROP TABLE spans",
    "INSERT INTO spans SELECT * FROM spans",
    "UPDATE spans SET name = 'x'",
    "PRAGMA threads = 1",
    "CHECKPOINT",
    "CALL pragma_version()",
    "SELECT 1; DELETE FROM spans",
    "WITH d AS (DELETE FROM spans RETURNING *) SELECT * FROM d",
    "SELECT * FROM read_csv('/etc/passwd')",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{d}/out.csv'",
    "BEGIN",
    "VACUUM",
]


@pytest.mark.parametrize("sql", WRITES)
def test_sql_cannot_write(ingested: Path, sql: str) -> None:
    before = _digest(ingested / C.DATABASE_FILE)
    files = sorted(p.name for p in ingested.iterdir())
    result = run("sql", sql.format(d=ingested), data_dir=ingested)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error:")
    assert _digest(ingested / C.DATABASE_FILE) == before
    assert sorted(p.name for p in ingested.iterdir()) == files


def test_sql_reads_the_data_directory_and_nothing_else(ingested: Path) -> None:
    own = run("sql", f"SELECT count(*) AS n FROM read_json('{ingested}/t.jsonl')", "-f",
              "json", data_dir=ingested)
    assert own.returncode == 0 and json.loads(own.stdout) == [{"n": 1}]
    shown = run("sql", "SHOW TABLES", data_dir=ingested)
    assert shown.returncode == 0 and "spans" in shown.stdout


def test_check_exit_codes(ingested: Path, tmp_path: Path) -> None:
    verdict = run("check", "--min-grade", "F", "--no-ingest", data_dir=ingested)
    assert verdict.returncode in (0, 1) and verdict.stdout.startswith(("PASS", "FAIL"))
    errors = {
        "bad --min-grade": run("check", "--min-grade", "Q", data_dir=ingested),
        "missing db": run("check", data_dir=tmp_path / "none"),
        "unknown session": run("check", "nope", "--no-ingest", data_dir=ingested),
    }
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("this is [not toml")
    errors["bad config"] = run("check", "--config", str(bad_config), data_dir=ingested)
    (ingested / "bad.jsonl").write_text("[" * 5000 + "\n" + traces(1) + "\n")
    errors["bad file"] = run("check", "--min-grade", "F", data_dir=ingested)
    for name, result in errors.items():
        if name == "bad file":  # a bad line is reported and never fatal: the verdict stands
            assert result.returncode == verdict.returncode, result.stderr
            continue
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert result.stderr.startswith("error:"), name


def _hold_lock(db_path: Path, ready: threading.Event, done: threading.Event) -> None:
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    ready.set()
    done.wait(60)
    proc.stdin.close()
    proc.wait(10)


def test_a_held_lock_gives_a_message(ingested: Path) -> None:
    ready, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(ingested / C.DATABASE_FILE, ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        for args in (("report",), ("check",), ("ingest",), ("sql", "SELECT 1"), ("sessions",)):
            result = run(*args, data_dir=ingested)
            assert result.returncode == 2, (args, result.stderr)
            assert "another swarmscope process" in result.stderr, result.stderr
    finally:
        done.set()
        holder.join()


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")


def test_read_only_data_dir(ingested: Path, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    _mount("--bind", str(ingested), str(ro))
    try:
        _mount("-o", "remount,ro,bind", str(ro))
        (ingested / "more.jsonl").write_text(traces(1) + "\n")
        ingest = run("ingest", data_dir=ro)
        assert ingest.returncode == 2 and "read-only" in ingest.stderr, ingest.stderr
        report = run("report", data_dir=ro)
        assert report.returncode == 2 and "--no-ingest" in report.stderr, report.stderr
        stale = run("report", "--no-ingest", "--format", "json", data_dir=ro)
        assert stale.returncode == 0, stale.stderr
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_full_disk_first_ingest_leaves_nothing_that_blocks(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small))
    try:
        source = tmp_path / "in"
        source.mkdir()
        for i in range(12):  # ~12 MB of spans: more than fits
            (source / f"{i}.jsonl").write_text((traces(200) + "\n") * 25)
        data = small / "data"
        full = run("ingest", str(source), data_dir=data)
        assert full.returncode == 2, full.stdout + full.stderr
        assert "disk is full" in full.stderr or "no space" in full.stderr.lower()
        db = data / C.DATABASE_FILE
        assert not db.exists() or db.stat().st_size > 0
        for f in source.iterdir():
            f.unlink()
        (source / "0.jsonl").write_text(traces(2) + "\n")
        again = run("ingest", str(source), data_dir=data)
        assert again.returncode == 0, again.stderr
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_empty_database_file_is_replaced(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / C.DATABASE_FILE).write_bytes(b"")
    (data_dir / "t.jsonl").write_text(traces() + "\n")
    result = run("ingest", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(data_dir / C.DATABASE_FILE), read_only=True)
    assert con.execute("SELECT count(*) FROM spans").fetchone() == (3,)
    con.close()


def test_special_files(data_dir: Path, tmp_path: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "t.jsonl").write_text(traces() + "\n")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    named = run("ingest", str(fifo), data_dir=data_dir, timeout=30)
    assert named.returncode == 2 and "not a regular file (a FIFO)" in named.stderr
    zero = run("ingest", "/dev/zero", data_dir=data_dir, timeout=30)
    assert zero.returncode == 2 and "character device" in zero.stderr
    os.mkfifo(data_dir / "inside.jsonl")
    os.symlink("loop.jsonl", data_dir / "loop.jsonl")
    os.symlink("/nonexistent.jsonl", data_dir / "dangling.jsonl")
    walked = run("ingest", data_dir=data_dir, timeout=30)
    assert walked.returncode == 0, walked.stderr
    assert "inside.jsonl: not read: not a regular file (a FIFO)" in walked.stderr
    assert "loop.jsonl: not read: too many levels of symbolic links" in walked.stderr
    assert "dangling.jsonl: not read: no such file or directory" in walked.stderr
    assert "added 1 resources, 3 spans" in walked.stdout


def test_unreadable_entries_are_reported(tmp_path: Path) -> None:
    # Root reads everything, so the ingest runs as "nobody" (uid 65534), for whom a
    # mode-000 file and directory really fail to open.
    if os.geteuid() != 0:
        pytest.skip("needs root to run the ingest as another user")
    base = Path("/tmp") / f"swarmscope-unreadable-{os.getpid()}"
    data = base / "data"
    (data / "locked").mkdir(parents=True)
    try:
        (data / "t.jsonl").write_text(traces() + "\n")
        (data / "secret.jsonl").write_text(traces(1) + "\n")
        (data / "locked" / "x.jsonl").write_text(traces(1) + "\n")
        for p in (base, data):
            p.chmod(0o777)
        (data / "t.jsonl").chmod(0o644)
        (data / "secret.jsonl").chmod(0o000)
        (data / "locked").chmod(0o000)
        env = {**os.environ, C.ENV_DATA_DIR: str(data), "HOME": str(base)}
        try:
            result = subprocess.run([*CLI, "ingest"], capture_output=True, text=True,
                                    env=env, user=65534, group=65534, timeout=120)
        except PermissionError:
            pytest.skip("the interpreter cannot be run by nobody here")
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 0, result.stderr
        assert "secret.jsonl: cannot read: permission denied" in result.stderr.lower()
        assert "locked: directory not read: permission denied" in result.stderr
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", str(base)], check=False)
        subprocess.run(["rm", "-rf", str(base)], check=False)


def test_leftovers_of_a_killed_run_go_on_the_next(ingested: Path) -> None:
    leftover = ingested / ".ingest-tmp" / "group-killed" / "0.jsonl"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"x" * 1024)  # what a kill -9 during a large ingest leaves
    (ingested / "more.jsonl").write_text(traces(1) + "\n")
    result = run("ingest", data_dir=ingested)
    assert result.returncode == 0, result.stderr
    assert not (ingested / ".ingest-tmp").exists()
    assert "added 0 resources, 1 spans" in result.stdout  # the leftover is not data
