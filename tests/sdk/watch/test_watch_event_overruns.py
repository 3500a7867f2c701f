"""Kernel process events the watcher lost: said on stderr, on the cleanup audit, and in the
report, without marking the session down; a watch that lost none says nothing.

The kernel drops events when the connector's receive buffer is full. The test makes that
certain rather than likely: the connector subscribes (the kernel queues every fork and exit
of the machine from then on) with a buffer of a few KiB, a burst of processes runs before
the watcher reads anything, and only then does the watch start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from otlp_files import load_spans
from swarmscope import conventions as c
from swarmscope.analyzer import api
from swarmscope.analyzer.report_md import render_markdown
from swarmscope.watch.tree import ProcConnector
from watch_helpers import events_available

SMALL_BUFFER = 4096  # the kernel doubles it: a handful of events
BURST = "for i in $(seq 300); do /bin/true & done; wait"  # 300 forks and exits at once

WATCH = f"""
import json, subprocess, sys
import swarmscope
from swarmscope.watch.runner import watcher_for
from swarmscope.watch.tree import ProcConnector

small = sys.argv[1] == "small"
swarmscope.init(service_name="lost-events")
watcher = watcher_for(swarmscope.session(), events=True)
if small:
    watcher.connector.close()
    watcher.connector = ProcConnector.open(buffer_bytes={SMALL_BUFFER})
    # a burst the kernel must queue before anything reads it
    subprocess.run(["sh", "-c", {BURST!r}], check=True)
watcher.start(["sh", "-c", "sleep 0.2; exit 0"])
report = watcher.wait()
swarmscope.shutdown()
print(json.dumps({{"event_overruns": report.event_overruns}}))
"""


pytestmark = pytest.mark.skipif(not events_available(),
                                reason="proc connector needs CAP_NET_ADMIN")


def _watch(tmp_path: Path, buffer: str) -> tuple[Path, int, str]:
    """Watch a short program into a data directory of its own: (directory, events lost,
    stderr)."""
    data_dir = tmp_path / buffer
    script = tmp_path / "watch.py"
    script.write_text(textwrap.dedent(WATCH))
    done = subprocess.run([sys.executable, str(script), buffer], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, c.ENV_DATA_DIR: str(data_dir)})
    assert done.returncode == 0, done.stderr
    return data_dir, json.loads(done.stdout.splitlines()[-1])["event_overruns"], done.stderr


def _audit_attributes(data_dir: Path) -> dict:
    [audit] = [s for s in load_spans(data_dir) if s.name == c.SPAN_CLEANUP_AUDIT]
    return audit.attrs


def _forks_read(connector: ProcConnector, burst: int) -> int:
    """Wait until ``connector`` has read the burst's forks, or has lost some (then read on
    for a moment); the forks it read."""
    forks, deadline = 0, time.monotonic() + 20
    while time.monotonic() < deadline and forks < burst:
        forks += sum(1 for event in connector.drain() if event[0] == "fork")
        if connector.lost:
            time.sleep(0.5)
            return forks + sum(1 for event in connector.drain() if event[0] == "fork")
        time.sleep(0.05)
    return forks


def test_a_connector_counts_the_events_the_kernel_dropped() -> None:
    burst = 301  # at least: the shell and its 300 children (and $(seq)'s subshell)
    small = ProcConnector.open(buffer_bytes=SMALL_BUFFER)
    roomy = ProcConnector.open()
    assert small is not None and roomy is not None
    try:
        subprocess.run(["sh", "-c", BURST], check=True)
        small.start([os.getpid()])
        roomy.start([os.getpid()])
        assert _forks_read(roomy, burst) >= burst and roomy.lost == 0
        assert _forks_read(small, burst) < burst and small.lost >= 1
    finally:
        small.close()
        roomy.close()


def test_lost_events_are_said_and_reported_without_marking_the_session_down(
    tmp_path: Path,
) -> None:
    lossy, lost, stderr = _watch(tmp_path, "small")
    clean, none_lost, clean_stderr = _watch(tmp_path, "default")
    assert lost >= 1 and none_lost == 0
    assert f"dropped process events {lost} time(s)" in stderr
    assert "dropped process events" not in clean_stderr
    assert _audit_attributes(lossy)[c.PROCESS_EVENT_OVERRUNS] == lost
    assert c.PROCESS_EVENT_OVERRUNS not in _audit_attributes(clean)
    said = (f"The kernel dropped process events {lost} time(s) while the tree was watched "
            "(receive buffer full): processes that started and ended between two scans may "
            "be missing from this report, with their exit codes.")
    graded = {name: api.grade(None, d) for name, d in (("lossy", lossy), ("clean", clean))}
    notes = {name: [f for f in g.dimensions["cleanup"].findings
                    if "dropped process events" in f.text] for name, g in graded.items()}
    assert [f.text for f in notes["lossy"]] == [said] and notes["clean"] == []
    assert not notes["lossy"][0].severity.flags
    assert said in render_markdown(graded["lossy"])
    # what the evidence may lack is no judgement on the session
    assert graded["lossy"].dimensions["cleanup"].score == graded["clean"].dimensions[
        "cleanup"].score
