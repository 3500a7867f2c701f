"""Tailing a data directory as it is written (``swarmscope top``'s reader): partial last lines
wait for their newline, replaced files are read again, hostile lines are skipped and counted,
and telemetry strings reach the terminal escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swarmscope import conventions as c
from swarmscope.monitor import alert_config
from swarmscope.watch import live
from swarmscope.watch.live import LiveFiles
from swarmscope.watch.live_model import LiveSession
from swarmscope.watch.live_view import document

SESSION = "5e55"
SWARMSCOPE = Path(sys.executable).parent / "swarmscope"


def _kv(key: str, value: object) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _create(name: str, pid: int, agent_id: str | None = None) -> str:
    attrs = [_kv(c.GEN_AI_OPERATION_NAME, "create_agent"), _kv(c.GEN_AI_AGENT_NAME, name),
             _kv(c.AGENT_INSTANCE_ID, agent_id or f"{name}-1"), _kv(c.PROCESS_PID, pid),
             _kv(c.AGENT_KIND, "process")]  # fmt: skip
    span = {"traceId": "ab" * 16, "spanId": f"{pid:016x}", "name": f"create_agent {name}",
            "startTimeUnixNano": "1", "endTimeUnixNano": "2", "attributes": attrs}  # fmt: skip
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [_kv(c.SESSION_ID, SESSION)]},
        "scopeSpans": [{"spans": [span]}]}]})  # fmt: skip


def _rss(pid: int, value: int, at_ns: int) -> str:
    point = {"attributes": [_kv(c.PROCESS_PID, pid)], "timeUnixNano": str(at_ns),
             "asInt": str(value)}  # fmt: skip
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": [_kv(c.SESSION_ID, SESSION)]},
        "scopeMetrics": [{"metrics": [{"name": c.PROCESS_MEMORY_USAGE,
                                       "gauge": {"dataPoints": [point]}}]}]}]})  # fmt: skip


def _model(data_dir: Path, files: LiveFiles | None = None) -> tuple[LiveSession, LiveFiles]:
    files = files or LiveFiles(data_dir)
    session = LiveSession(SESSION, alert_config.load())
    for signal, doc in files.poll():
        session.feed(signal, doc)
    return session, files


def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    (tmp_path / "sdk").mkdir()
    path = tmp_path / "sdk" / "traces.h.1.2.jsonl"
    line = _create("coder", 4242)
    path.write_text(line[:40])
    files = LiveFiles(tmp_path)
    assert list(files.poll()) == []
    with path.open("a") as handle:
        handle.write(line[40:] + "\n" + line[:10])
    docs = list(files.poll())
    assert len(docs) == 1 and docs[0][0] == "traces" and files.bad_lines == 0


def test_a_replaced_file_is_read_again_and_a_removed_one_forgotten(tmp_path: Path) -> None:
    (tmp_path / "sdk").mkdir()
    path = tmp_path / "sdk" / "traces.h.1.2.jsonl"
    path.write_text(_create("a", 11) + "\n" + _create("b", 12) + "\n")
    files = LiveFiles(tmp_path)
    assert len(list(files.poll())) == 2
    fresh = tmp_path / "sdk" / "new.tmp"
    fresh.write_text(_create("c", 13) + "\n")
    os.replace(fresh, path)  # rotation: a shorter file under the same name
    assert [d for _s, d in files.poll()] and files.bad_lines == 0
    path.unlink()
    assert list(files.poll()) == []


def test_archived_span_files_are_read_once_from_where_they_were_left(tmp_path: Path) -> None:
    """The sdk archives each span file it rotated away from: agents created in it still show,
    and a file archived while followed is not read twice."""
    from swarmscope.archive import archive

    (tmp_path / "sdk").mkdir()
    old = tmp_path / "sdk" / "traces.h.1.2.jsonl"
    old.write_text(_create("a", 11) + "\n" + _create("b", 12)[:30])  # b: half written
    files = LiveFiles(tmp_path)
    assert len(list(files.poll())) == 1
    with old.open("a") as handle:
        handle.write(_create("b", 12)[30:] + "\n" + _create("c", 13) + "\n")
    archive(old)  # rotated away from and archived before the next refresh
    names = [d["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"]
             for _s, d in files.poll()]
    assert names == ["create_agent b", "create_agent c"]
    assert list(files.poll()) == []  # an archive is read once
    later, _ = _model(tmp_path)  # a view started after the archiving sees every agent
    assert {a.name for a in later.agents.values()} == {"a", "b", "c"}


def test_hostile_lines_are_counted_and_skipped_and_valid_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "sdk").mkdir()
    deep = "[" * 100_000 + "]" * 100_000
    lines = ["not json", "[1, 2]", deep, '{"resourceSpans": "nope"}', _create("ok", 21),
             '{"resourceSpans": [{"resource": {"attributes": [{"key": "session.id"}]}}]}']
    (tmp_path / "sdk" / "traces.h.1.2.jsonl").write_text("\n".join(lines) + "\n")
    session, files = _model(tmp_path)
    assert files.bad_lines == 3
    assert [a.name for a in session.agents.values()] == ["ok"]


def test_metric_points_attach_to_agents_by_pid_and_feed_the_sparkline(tmp_path: Path) -> None:
    (tmp_path / "sdk").mkdir()
    (tmp_path / "sdk" / "traces.h.1.2.jsonl").write_text(_create("coder", 31) + "\n")
    (tmp_path / "sdk" / "metrics.h.1.2.jsonl").write_text(
        "\n".join(_rss(31, (10 + i) << 20, (5 + i) * 10**9) for i in range(5)) + "\n"
        + _rss(99, 1, 10**9) + "\n")  # a pid of no agent: not shown
    session, files = _model(tmp_path)
    session.refresh_states()
    doc = document(session, str(tmp_path), {"read": 2, "bad_lines": 0})
    (agent,) = doc["agents"]
    assert agent["rss_bytes"] == 14 << 20 and len(agent["memory_recent"]) == 5
    assert agent["state"] == "exited"  # pid 31 is not this process: /proc has the last word


def test_nanos_and_numbers_refuse_what_is_not_one() -> None:
    assert live.nanos("1700000000000000000") == 1.7e9 and live.nanos("x") is None
    assert live.nanos(-5) is None and live.as_int(True) is None and live.as_float("1e999x") is None


def test_telemetry_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    (tmp_path / "sdk").mkdir()
    evil = "evil\x1b[2J[bold red]boom[/bold red]\x07"
    (tmp_path / "sdk" / "traces.h.1.2.jsonl").write_text(_create(evil, os.getpid()) + "\n")
    result = subprocess.run([str(SWARMSCOPE), "top", "-d", str(tmp_path), "--once"],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b[2J" not in result.stdout and "\x07" not in result.stdout
    assert "evil\\x1b[2J[bold red]boom[/bold red]\\x07" in result.stdout
