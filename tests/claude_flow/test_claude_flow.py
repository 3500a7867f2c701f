"""Claude-Flow 3.43.0 itself under ``swarmscope run``, with the stand-in ``claude`` on PATH:
its daemon left running is an orphan under its own name that ``reap`` ends; stopped, it
leaves nothing behind and the short CLI processes do not count as spinning."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from otlp_files import audit_events, by_operation, load_spans
from swarmscope import conventions as c
from swarmscope import procfs

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
REAPER = Path(__file__).parent / "reaper.py"
SPINNER = re.compile(r"(?<!not )spin", re.IGNORECASE)


def _swarmscope(path: str, cwd: Path, *args: str, under_init: bool = True):
    """``swarmscope ARGS`` with Claude-Flow on PATH, under a subreaper that reaps orphans'
    zombies at once as a proper init would (this machine's pid 1 may not). Stdin is empty:
    the stand-in claude, as the real one, reads piped stdin to its end before answering."""
    prefix = [sys.executable, str(REAPER)] if under_init else []
    return subprocess.run(
        [*prefix, str(SWARMSCOPE), *args], cwd=cwd, capture_output=True, text=True,
        timeout=180, env={**os.environ, "PATH": path}, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _daemon_pids(spans) -> set[int]:
    created = by_operation(spans, c.Operation.CREATE_AGENT)
    return {s.pid for s in created if s.attrs[c.GEN_AI_AGENT_NAME].startswith("claude-flow daemon")}


def _alive(pid: int) -> bool:
    stat = procfs.read_stat(pid)
    return stat is not None and not stat.is_zombie


def test_daemon_left_running_is_an_orphan_that_reap_ends(
    claude_flow_path: str, tmp_path: Path, data_dir: Path
) -> None:
    run = _swarmscope(claude_flow_path, tmp_path, "run", "-q", "--", "claude-flow", "daemon",
                      "start")  # fmt: skip
    spans = load_spans(data_dir)
    orphans = [o for o in audit_events(spans, c.EVENT_ORPHAN)
               if o[c.GEN_AI_AGENT_NAME].startswith("claude-flow daemon")]  # fmt: skip
    try:
        assert run.returncode == 0, run.stderr
        assert len(orphans) == 1, run.stderr
        daemon = orphans[0][c.PROCESS_PID]
        assert daemon in _daemon_pids(spans) and _alive(daemon)
        assert "claude-flow daemon" in run.stderr  # the leftover table names it too
        listed = _swarmscope(claude_flow_path, tmp_path, "reap", "--dry-run", under_init=False)
        assert listed.returncode == 0 and str(daemon) in listed.stdout and _alive(daemon)
        reaped = _swarmscope(claude_flow_path, tmp_path, "reap", under_init=False)
        assert reaped.returncode == 0, reaped.stderr
        assert f"pid {daemon} (claude-flow daemon start): ended" in reaped.stdout
        assert not _alive(daemon)
        ended = [s for s in by_operation(load_spans(data_dir), c.Operation.TERMINATE_AGENT)
                 if s.attrs.get(c.REAPED)]  # fmt: skip
        assert [s.pid for s in ended] == [daemon]
    finally:
        for orphan in orphans:
            if _alive(orphan[c.PROCESS_PID]):
                os.kill(orphan[c.PROCESS_PID], 9)


DRIVER = """#!/bin/sh
# what a user's session does: start the daemon, ask the CLI a few things, stop the daemon
claude-flow daemon start
claude-flow daemon status
claude --version
claude --print "summarise the repo"
claude-flow daemon stop
"""


def test_daemon_stopped_leaves_nothing_and_cli_processes_are_not_spinners(
    claude_flow_path: str, tmp_path: Path, data_dir: Path
) -> None:
    driver = tmp_path / "session.sh"
    driver.write_text(DRIVER)
    driver.chmod(0o755)
    out = tmp_path / "report.json"
    run = _swarmscope(claude_flow_path, tmp_path, "run", "-q", "--report", str(out), "--",
                      str(driver))  # fmt: skip
    spans = load_spans(data_dir)
    try:
        assert run.returncode == 0, run.stderr
        assert _daemon_pids(spans), "the daemon was seen"
        assert not audit_events(spans, c.EVENT_ORPHAN), run.stderr
        assert not audit_events(spans, c.EVENT_ZOMBIE), run.stderr
        assert "left behind" not in run.stderr
    finally:
        for pid in _daemon_pids(spans):
            if _alive(pid):
                os.kill(pid, 9)
    report = json.loads(out.read_text())
    assert "overall" in report and "dimensions" in report
    cpu = report["dimensions"]["cpu"]
    spinners = [f for f in cpu["findings"] if SPINNER.search(f)]
    cleanup = report["dimensions"]["cleanup"]
    assert not spinners, cpu["findings"]
    assert cpu["grade"][0] in "AB", cpu  # short CLI processes do not lower the grade
    assert not cleanup.get("orphans") and not cleanup.get("zombies"), cleanup
    assert not cleanup.get("hung"), cleanup  # claude --print got EOF on its stdin
