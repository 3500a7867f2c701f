"""The one reader of process facts, checked against the kernel through psutil."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest
from swarmscope import procfs


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "30"], env={**os.environ, "PROCFS_MARK": "here"})
    # vfork lets Popen return while exec is still setting up the new program's arguments
    deadline = time.monotonic() + 10
    while not procfs.read_cmdline(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.005)
    yield proc
    proc.kill()
    proc.wait()


def test_identity_is_pid_and_start_ticks(sleeper) -> None:
    stat = procfs.read_stat(sleeper.pid)
    assert stat is not None and stat.key == (sleeper.pid, stat.start_ticks)
    assert stat.ppid == os.getpid() and stat.comm == "sleep" and not stat.is_zombie
    assert stat.create_time == pytest.approx(psutil.Process(sleeper.pid).create_time(), abs=0.02)
    assert procfs.scan()[sleeper.pid].key == stat.key  # the table agrees


def test_command_line_environment_and_descendants(sleeper) -> None:
    assert procfs.read_cmdline(sleeper.pid) == ["sleep", "30"]
    assert procfs.read_exe(sleeper.pid).endswith("sleep")
    assert procfs.read_environ(sleeper.pid)["PROCFS_MARK"] == "here"
    assert procfs.environ_has(sleeper.pid, "PROCFS_MARK", "here")
    assert not procfs.environ_has(sleeper.pid, "PROCFS_MARK", "there")
    assert sleeper.pid in {s.pid for s in procfs.descendants(os.getpid())}


def test_a_zombie_carries_its_wait_status() -> None:
    child = subprocess.Popen(["sh", "-c", "kill -TERM $$"])
    deadline = time.monotonic() + 10
    while (stat := procfs.read_stat(child.pid)) is not None and not stat.is_zombie:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert stat is not None and stat.process_state == "defunct"
        assert procfs.decode_wait_status(stat.exit_status) == (-signal.SIGTERM, signal.SIGTERM)
        assert procfs.signal_name(signal.SIGTERM) == "SIGTERM"
        assert procfs.state_counts({child.pid: stat})["defunct"] == 1
    finally:
        child.wait()
    assert procfs.read_stat(child.pid) is None
