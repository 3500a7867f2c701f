"""Running real Node.js programs under the real CLI (``swarmscope run``) and reading the graded
session back (``swarmscope report --format json``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from node_runs import FAST_INTERVAL, NODE, PROGRAMS
from swarmscope import conventions as c


def watched(data_dir: Path, *argv: str, env: dict[str, str] | None = None,
            interval: str = FAST_INTERVAL, timeout: float = 60, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``swarmscope run -- argv`` with its own data directory."""
    full_env = {**os.environ, c.ENV_DATA_DIR: str(data_dir), c.ENV_SAMPLE_INTERVAL: interval,
                **(env or {})}
    full_env.pop(c.ENV_SESSION_ID, None)
    return subprocess.run([sys.executable, "-m", "swarmscope.cli", "run", "--", *argv],
                          capture_output=True, text=True, env=full_env, timeout=timeout,
                          cwd=cwd)


def watched_node(data_dir: Path, program: str, *args: str, **kwargs: Any
                 ) -> subprocess.CompletedProcess[str]:
    return watched(data_dir, NODE or "node", str(PROGRAMS / program), *args, **kwargs)


def report(data_dir: Path) -> dict[str, Any]:
    """The JSON report of the latest session in ``data_dir``."""
    env = {**os.environ, c.ENV_DATA_DIR: str(data_dir)}
    out = subprocess.run([sys.executable, "-m", "swarmscope.cli", "report", "--format", "json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def agents_by_pid(rep: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The report's agents keyed by pid."""
    return {a["pid"]: a for a in rep["agents"] if a.get("pid") is not None}


def workers(stdout: str) -> list[tuple[str, int]]:
    """(mode, pid) of every worker that announced itself with a ``{"worker": ..}`` line."""
    found = []
    for line in stdout.splitlines():
        if line.startswith('{"worker"'):
            item = json.loads(line)
            found.append((item["worker"], int(item["pid"])))
    return found
