"""Transient zombies are not leftovers: a zombie counts only once it outlives the grace period,
and then its event names the parent that fails to reap it.

pid 1 of a container often reaps nothing (here it is a VM agent), so the tests do not rely on
init: a driver process makes itself a child subreaper (PR_SET_CHILD_SUBREAPER), runs the
watcher under it, and becomes the parent of the double-forked grandchild. It reaps that zombie
after a delay shorter than the grace (init reaping late), or only after the watcher is done
(nobody reaps in time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from otlp_files import audit_events, load_spans
from swarmscope import conventions as c
from watch_helpers import SWARMSCOPE, write

# The watched program: its child forks a grandchild and exits at once, so the grandchild is
# reparented to the driver; the grandchild then exits and waits, a zombie, for the driver.
DOUBLE_FORK = """
import os, time
if os.fork() == 0:
    grandchild = os.fork()
    if grandchild == 0:
        time.sleep(0.3)
        os._exit(0)
    with open("grandchild.pid", "w") as f:
        f.write(str(grandchild))
    os._exit(0)
os.wait()
time.sleep(0.8)  # the grandchild is a zombie of the driver by now
"""

DRIVER = """
import ctypes, json, os, subprocess, sys, time
PR_SET_CHILD_SUBREAPER = 36
assert ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
reap_after = float(sys.argv[1])  # < 0: only once the watcher has finished
watcher = subprocess.Popen(sys.argv[2:])
if reap_after >= 0:
    while not os.path.exists("grandchild.pid"):
        time.sleep(0.01)
    time.sleep(0.3 + reap_after)
    grandchild = int(open("grandchild.pid").read())
    os.waitpid(grandchild, 0)
code = watcher.wait()
if reap_after < 0:
    os.waitpid(int(open("grandchild.pid").read()), 0)
print(json.dumps({"driver": os.getpid(), "code": code}))
"""


def _drive(tmp_path: Path, reap_after: float) -> dict:
    program = write(tmp_path, "double_fork.py", DOUBLE_FORK)
    driver = write(tmp_path, "driver.py", DRIVER)
    watcher = [str(SWARMSCOPE), "run", "-q", "--", sys.executable, program]
    result = subprocess.run(
        [sys.executable, driver, str(reap_after), *watcher], cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
        env={**os.environ, c.ENV_ZOMBIE_GRACE: "2"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["code"] == 0, result.stderr
    outcome["stderr"] = result.stderr
    return outcome


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux")
def test_zombie_its_reaper_collects_late_is_not_left_behind(
    tmp_path: Path, data_dir: Path
) -> None:
    outcome = _drive(tmp_path, reap_after=0.5)  # well inside the 2 s grace
    spans = load_spans(data_dir)
    assert not audit_events(spans, c.EVENT_ZOMBIE), outcome["stderr"]
    assert "zombie" not in outcome["stderr"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux")
def test_zombie_nobody_reaps_is_reported_naming_its_parent(
    tmp_path: Path, data_dir: Path
) -> None:
    outcome = _drive(tmp_path, reap_after=-1)
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    (zombie,) = audit_events(load_spans(data_dir), c.EVENT_ZOMBIE)
    assert zombie[c.PROCESS_PID] == grandchild
    assert zombie[c.PROCESS_PARENT_PID] == outcome["driver"]
    assert zombie[c.PARENT_NAME].endswith("driver.py")  # python driver.py
    assert zombie[c.ZOMBIE_SECONDS] >= 2
    assert "zombie" in outcome["stderr"]
