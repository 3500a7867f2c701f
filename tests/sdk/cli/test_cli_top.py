"""``swarmscope top`` on a real running swarm: through tmux (rows appear, keys sort, filter and
quit), ``--once --format json`` (agents with pids, states and their tree), and the ways it ends
with a message instead of a traceback. The swarm runs under ``swarmscope run`` in its own data
directory and is killed at the end, whatever happened."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
PY = Path(sys.executable).name  # agents are named after it: python3 worker.py alpha
SWARM = """
import subprocess, sys, time
here = __file__.rsplit("/", 1)[0]
workers = [subprocess.Popen([sys.executable, f"{here}/worker.py", name])
           for name in ("alpha", "beta", "gamma")]
time.sleep(40)
"""
WORKER = """
import subprocess, sys, time
name = sys.argv[1]
held = bytearray(80 * 1024 * 1024) if name == "gamma" else b""  # the biggest by far
if name == "beta":  # beta has a child of its own: the tree is two deep under the root
    child = subprocess.Popen([sys.executable, __file__, "beta-child"])
time.sleep(40)
"""
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _top(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SWARMSCOPE), "top", "-d", str(data_dir), *args],
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def _snapshot(data_dir: Path) -> dict:
    result = _top(data_dir, "--once", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def swarm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running session of five agents: the program, three workers, one grandchild."""
    home = tmp_path_factory.mktemp("swarm")
    (home / "swarm.py").write_text(textwrap.dedent(SWARM))
    (home / "worker.py").write_text(textwrap.dedent(WORKER))
    data_dir = home / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMSCOPE_", "OTEL_"))}
    process = subprocess.Popen(
        [str(SWARMSCOPE), "run", "-q", "-d", str(data_dir), "--", sys.executable, "swarm.py"],
        cwd=home, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (data_dir / "sdk").is_dir() and any((data_dir / "sdk").glob("traces*")):
                doc = _snapshot(data_dir)
                names = {a["name"] for a in doc["agents"]}
                if len(names) >= 5 and all(a["rss_bytes"] for a in doc["agents"]):
                    break
            time.sleep(0.3)
        else:
            pytest.fail("the swarm did not show up in time")
        yield data_dir
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        _kill_marked(home)


def _kill_marked(home: Path) -> None:
    """The workers run in the watcher's process group: gone with it; this is the backstop."""
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(home).encode() in cmdline:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_json_lists_every_agent_with_its_pid_state_and_place_in_the_tree(swarm: Path) -> None:
    doc = _snapshot(swarm)
    agents = {a["name"]: a for a in doc["agents"]}
    assert {f"{PY} worker.py alpha", f"{PY} worker.py beta", f"{PY} worker.py gamma",
            f"{PY} worker.py beta-child"} <= set(agents), agents.keys()  # fmt: skip
    for agent in agents.values():
        assert agent["state"] == "running" and isinstance(agent["pid"], int)
        assert Path(f"/proc/{agent['pid']}").exists()
        assert agent["fd_limit"] and agent["fds"] is not None and agent["threads"]
    beta, child = agents[f"{PY} worker.py beta"], agents[f"{PY} worker.py beta-child"]
    assert child["parent_pid"] == beta["pid"] and child["depth"] == beta["depth"] + 1
    assert agents[f"{PY} worker.py gamma"]["rss_bytes"] > 70 * 1024 * 1024
    assert doc["findings"] == [] and doc["session_id"]


def test_once_prints_one_frame_of_rows(swarm: Path) -> None:
    result = _top(swarm, "--once")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("swarmscope top  session ")
    assert any(f"└ {PY} worker.py beta-child" in line for line in lines)


def _pane(name: str) -> list[str]:
    out = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                         text=True, timeout=10).stdout  # fmt: skip
    return out.splitlines()


def _wait_for(name: str, predicate, timeout: float = 6.0) -> list[str]:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        lines = _pane(name)
        if predicate(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def _rows(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if "worker.py" in line]


def _workers(lines: list[str]) -> list[str]:
    """The worker names of the rows, top to bottom."""
    return [row.split("worker.py ", 1)[1].split()[0] for row in _rows(lines)]


def test_tmux_rows_appear_then_keys_sort_filter_and_quit(swarm: Path, tmp_path: Path) -> None:
    name = f"swarmscope-top-{os.getpid()}"
    done = tmp_path / "exit-status"
    command = f"{SWARMSCOPE} top -d {swarm}; echo $? > {done}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "40", command],
                   check=True, timeout=10)  # fmt: skip
    try:
        lines = _wait_for(name, lambda ls: len(_rows(ls)) == 4)
        rows = _rows(lines)
        assert len(rows) == 4, lines
        assert _workers(lines) == ["alpha", "beta", "beta-child", "gamma"], "\n".join(lines)
        indent = {w: line.index(f"{PY} worker.py") for line in lines if "worker.py" in line
                  for w in [line.split("worker.py ", 1)[1].split()[0]]}  # fmt: skip
        assert indent["beta-child"] == indent["beta"] + 2  # one level deeper than its parent
        subprocess.run(["tmux", "send-keys", "-t", name, "m"], check=True, timeout=10)
        lines = _wait_for(name, lambda ls: "sort: memory" in "\n".join(ls))
        assert _workers(lines)[0] == "gamma", lines  # the biggest sibling first
        subprocess.run(["tmux", "send-keys", "-t", name, "/", "b", "e", "t", "a", "Enter"],
                       check=True, timeout=10)  # fmt: skip
        lines = _wait_for(name, lambda ls: "filter: beta (/)" in "\n".join(ls))
        rows = _rows(lines)
        assert len(rows) == 2 and all("beta" in r for r in rows), lines
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True, timeout=10)
        deadline = time.monotonic() + 5
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=10)


def test_no_data_directory_or_no_such_session_ends_with_a_message(tmp_path: Path) -> None:
    missing = _top(tmp_path / "nowhere", "--once")
    assert missing.returncode == 2 and "no data directory" in missing.stderr
    (tmp_path / "empty" / "sdk").mkdir(parents=True)
    empty = _top(tmp_path / "empty", "--once")
    assert empty.returncode == 2 and "no session" in empty.stderr
    bad = _top(tmp_path / "empty", "--format", "yaml")
    assert bad.returncode == 2 and "--format" in bad.stderr
    broken = tmp_path / "alerts.toml"
    broken.write_text("[leak]\nwindow = 'x'\n")
    thresholds = subprocess.run(
        [str(SWARMSCOPE), "top", "-d", str(tmp_path / "empty"), "--once"], capture_output=True,
        text=True, timeout=30, env={**os.environ, "SWARMSCOPE_ALERTS": str(broken)},
    )  # fmt: skip
    assert thresholds.returncode == 2 and "SWARMSCOPE_ALERTS" in thresholds.stderr
    for result in (missing, empty, bad, thresholds):
        assert "Traceback" not in result.stderr
