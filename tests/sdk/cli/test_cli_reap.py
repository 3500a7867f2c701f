"""``swarmscope reap``: ends a finished session's marked leftovers, never anything else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from otlp_files import by_operation, load_spans
from swarmscope import conventions as c
from swarmscope import procfs

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
# A leftover that ignores SIGTERM, started as a double-forked daemon by the watched program.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
LEAVE = """
import os, subprocess, sys
code = sys.argv[1]
p = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
open("left.pid", "w").write(str(p.pid))
"""


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run([str(SWARMSCOPE), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})  # fmt: skip


def _alive(pid: int) -> bool:
    stat = procfs.read_stat(pid)
    return stat is not None and not stat.is_zombie


def _leave(tmp_path: Path, code: str) -> int:
    (tmp_path / "leave.py").write_text(LEAVE)
    run = _cli("run", "-q", "--", sys.executable, "leave.py", code, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    return int((tmp_path / "left.pid").read_text())


def test_dry_run_lists_and_ends_nothing_then_reap_ends(tmp_path: Path, data_dir: Path) -> None:
    pid = _leave(tmp_path, "import time; time.sleep(60)")
    # the same program, unmarked: same name, never touched
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 env={k: v for k, v in os.environ.items()
                                      if not k.startswith("SWARMSCOPE_")})  # fmt: skip
    try:
        listed = _cli("reap", "--dry-run", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert str(pid) in listed.stdout and "would end 1" in listed.stdout
        assert _alive(pid)
        reaped = _cli("reap", "--timeout", "2", cwd=tmp_path)
        assert reaped.returncode == 0, reaped.stderr
        assert f"pid {pid}" in reaped.stdout and "SIGTERM" in reaped.stdout
        assert not _alive(pid) and bystander.poll() is None
        (end,) = [s for s in by_operation(load_spans(data_dir), c.Operation.TERMINATE_AGENT)
                  if s.attrs.get(c.REAPED)]  # fmt: skip
        assert end.pid == pid and end.attrs[c.TERMINATION_REASON] == c.TerminationReason.GRACEFUL
        again = _cli("reap", cwd=tmp_path)
        assert again.returncode == 0 and "nothing to reap" in again.stdout
    finally:
        bystander.kill()
        if _alive(pid):
            os.kill(pid, 9)


def test_sigterm_ignored_gets_sigkill_after_timeout(tmp_path: Path, data_dir: Path) -> None:
    pid = _leave(tmp_path, STUBBORN)
    try:
        time.sleep(0.3)  # its SIGTERM handler is set
        started = time.monotonic()
        reaped = _cli("reap", "--timeout", "1", cwd=tmp_path)
        assert reaped.returncode == 0, reaped.stderr
        assert time.monotonic() - started >= 1
        assert "SIGKILL after timeout" in reaped.stdout and not _alive(pid)
        (end,) = [s for s in by_operation(load_spans(data_dir), c.Operation.TERMINATE_AGENT)
                  if s.attrs.get(c.REAPED)]  # fmt: skip
        assert end.attrs[c.TERMINATION_REASON] == c.TerminationReason.TIMEOUT_KILLED
    finally:
        if _alive(pid):
            os.kill(pid, 9)


def test_a_running_session_is_untouched(tmp_path: Path) -> None:
    """While `swarmscope run` still watches, its processes are not reaped."""
    watcher = subprocess.Popen(
        [str(SWARMSCOPE), "run", "-q", "--session", "live-session", "--", "sleep", "20"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.0)
        refused = _cli("reap", "live-session", cwd=tmp_path)
        assert refused.returncode == 2 and "still running" in refused.stderr
        assert watcher.poll() is None  # the watcher and its sleep live on
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
