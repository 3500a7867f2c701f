"""Running real Node.js programs with and without the preload, and reading what it wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from otlp_files import attributes, data_points, metrics, read_lines, sdk_files
from swarmscope import conventions as c

REPO = Path(__file__).resolve().parents[2]
PRELOAD = REPO / "sdk" / "watch" / c.NODE_PRELOAD_FILE
PROGRAMS = Path(__file__).resolve().parent / "programs"
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Short exports keep each test to a few seconds.
FAST_INTERVAL = "0.2"


def run_node(
    program: str,
    *args: str,
    preload: bool = True,
    env: dict[str, str] | None = None,
    node_args: tuple[str, ...] = (),
    timeout: float = 30,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``programs/<program>`` under node, with ``--require <preload>`` unless told not to."""
    command = [NODE or "node", *node_args]
    if preload:
        command += ["--require", str(PRELOAD)]
    command += [str(PROGRAMS / program), *args]
    full_env = {**os.environ, c.ENV_SAMPLE_INTERVAL: FAST_INTERVAL, **(env or {})}
    return subprocess.run(command, capture_output=True, env=full_env, timeout=timeout)


def metric_files(data_dir: Path) -> list[Path]:
    return sdk_files(data_dir, c.SIGNAL_METRICS)


def resource_of(path: Path) -> dict[str, Any]:
    first = read_lines(path)[0]
    return attributes(first["resourceMetrics"][0]["resource"]["attributes"])


def points(path: Path, name: str) -> list[dict[str, Any]]:
    """Every data point of metric ``name`` in one file, in file order, attributes decoded."""
    found = []
    for metric in metrics(read_lines(path)):
        if metric["name"] == name:
            for point in data_points(metric):
                found.append({**point, "attrs": attributes(point.get("attributes"))})
    return found


def value(point: dict[str, Any]) -> float:
    return float(point["asInt"]) if "asInt" in point else float(point["asDouble"])


def heap_used_totals(path: Path) -> list[float]:
    """``v8js.memory.heap.used`` summed over heap spaces, one figure per export, in time order."""
    totals: dict[int, float] = defaultdict(float)
    for point in points(path, c.V8JS_HEAP_USED):
        totals[int(point["timeUnixNano"])] += value(point)
    return [totals[t] for t in sorted(totals)]


def series(path: Path, name: str) -> list[float]:
    return [value(p) for p in sorted(points(path, name), key=lambda p: int(p["timeUnixNano"]))]


def file_by_agent(data_dir: Path) -> dict[str | None, Path]:
    """Each metrics file keyed by the ``swarm.agent.id`` its points carry (None: no agent)."""
    found: dict[str | None, Path] = {}
    for path in metric_files(data_dir):
        heap = points(path, c.V8JS_HEAP_USED)
        agent = heap[0]["attrs"].get(c.AGENT_INSTANCE_ID) if heap else None
        found[agent] = path
    return found
