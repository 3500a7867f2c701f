"""Claude-Flow's daemon from npm (the pinned version tests/claude_flow installs) under the
real ``swarmscope run``: its V8 heap and GC series appear, and its behaviour and exit codes are
the same with the preload as without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claude_flow.conftest import BIN, STAND_IN, _install, _installed
from node_runs import metric_files, needs_node, points, resource_of
from swarmscope import conventions as c
from watched_runs import watched

pytestmark = needs_node
DAEMON_S = 4.0  # long enough for its workers to start and its heap to be sampled


@pytest.fixture(scope="module")
def cf_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """claude-flow and the stand-in claude first on PATH, and a HOME of its own."""
    if not _installed():
        reason = _install()
        if reason is not None:
            print(f"skipping Claude-Flow tests: {reason}")
            pytest.skip(reason)
    home = tmp_path_factory.mktemp("home")
    path = os.pathsep.join([str(STAND_IN), str(BIN), os.environ.get("PATH", "")])
    return {"PATH": path, "HOME": str(home)}


def _daemon(data_dir: Path, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``swarmscope run -- claude-flow daemon start --foreground``, stopped by SIGTERM (which
    the watcher forwards) DAEMON_S after it is up, as a user's Ctrl-C or service manager
    would. Up: its pid file exists, which it writes after installing its SIGTERM handler (a
    SIGTERM before that ends node by default, with 143, on a slow machine)."""
    work.mkdir(parents=True, exist_ok=True)
    full = {**os.environ, **env, c.ENV_DATA_DIR: str(data_dir), c.ENV_SAMPLE_INTERVAL: "0.2"}
    full.pop(c.ENV_SESSION_ID, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarmscope.cli", "run", "--", "claude-flow", "daemon", "start",
         "--foreground", "-Q"], cwd=work, env=full, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    pid_file = work / ".claude-flow" / "daemon.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(DAEMON_S)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _node_files(data_dir: Path) -> list[Path]:
    return [p for p in metric_files(data_dir) if points(p, c.V8JS_HEAP_USED)]


def test_daemon_heap_and_gc_series_appear_and_behaviour_is_unchanged(
        tmp_path: Path, cf_env: dict[str, str]) -> None:
    with_preload = _daemon(tmp_path / "on", tmp_path / "work-on", cf_env)
    without = _daemon(tmp_path / "off", tmp_path / "work-off",
                      {**cf_env, c.ENV_NODE_PRELOAD: "0"})
    assert with_preload.returncode == without.returncode == 0, with_preload.stderr
    assert "swarmscope: " not in with_preload.stderr.replace("swarmscope: session", "")
    assert _node_files(tmp_path / "off") == []
    files = _node_files(tmp_path / "on")
    assert files, "the daemon wrote no V8 heap series"
    names = [resource_of(p).get(c.SERVICE_NAME) for p in files]
    assert any("claude-flow" in str(n) or "cli" in str(n) for n in names), names
    assert any(points(p, c.V8JS_GC_DURATION) for p in files)


@pytest.mark.parametrize(("args", "code"), [(("--version",), 0), (("no-such-command",), 1)])
def test_cli_output_and_exit_codes_are_unchanged(
        tmp_path: Path, cf_env: dict[str, str], args: tuple[str, ...], code: int) -> None:
    env = {**os.environ, **cf_env}
    plain = subprocess.run(["claude-flow", *args], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=60)
    run = watched(tmp_path / "data", "claude-flow", *args, env=cf_env, cwd=tmp_path)
    assert run.returncode == plain.returncode == code
    assert run.stdout.startswith(plain.stdout)
    assert _node_files(tmp_path / "data")
