"""The preload emits what @opentelemetry/instrumentation-runtime-node emits: the same metric
names, units, instruments, attribute keys and bucket boundaries.

The official package is installed with npm, at pinned versions, into a cache directory outside
the repository, and run with @opentelemetry/sdk-metrics; the test is skipped (saying why) only
when the npm registry cannot be reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from node_runs import NODE, metric_files, needs_node, run_node
from otlp_files import attributes, metrics, read_lines
from swarmscope import conventions as c

pytestmark = needs_node

# 0.36.1 is the newest release for Node 20 (0.37.0 needs Node >= 22.15); sdk-metrics 2.12.1
# wants @opentelemetry/api < 1.10.
OFFICIAL = {
    "@opentelemetry/instrumentation-runtime-node": "0.36.1",
    "@opentelemetry/sdk-metrics": "2.12.1",
    "@opentelemetry/api": "1.9.1",
}
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "swarmscope-test"
    / "npm"
    / f"runtime-node-{OFFICIAL['@opentelemetry/instrumentation-runtime-node']}"
)
DESCRIBE = Path(__file__).resolve().parent / "helpers" / "official_descriptors.js"
OURS_ONLY = {c.V8JS_HEAP_LIMIT}  # the heap ceiling the official package does not emit yet
POINT_ATTRIBUTES_OF_OURS = {c.PROCESS_PID, c.AGENT_INSTANCE_ID}  # how points reach agents
NODE_METRICS = {name for name in c.UNITS if name.startswith(("v8js.", "nodejs."))}


def _registry_unreachable(npm: str) -> str | None:
    try:
        ping = subprocess.run(
            [npm, "ping", "--fetch-retries=0", "--fetch-timeout=15000"],
            capture_output=True, text=True, timeout=30,
        )
    except subprocess.TimeoutExpired:
        return "npm ping timed out"
    if ping.returncode == 0:
        return None
    lines = [
        line for line in (ping.stderr or ping.stdout).splitlines()
        if line.strip() and "complete log" not in line and "full report" not in line
    ]
    return " / ".join(lines[:2]) if lines else f"npm ping exited {ping.returncode}"


def official_modules() -> Path:
    """node_modules holding the pinned official packages, installed once per cache."""
    marker = CACHE / "installed.json"
    if marker.exists() and json.loads(marker.read_text()) == OFFICIAL:
        return CACHE / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    reason = _registry_unreachable(npm)
    if reason:
        pytest.skip(f"the npm registry cannot be reached: {reason}")
    CACHE.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version}" for name, version in OFFICIAL.items()]
    install = subprocess.run(
        [npm, "install", "--prefix", str(CACHE), "--no-save", "--no-package-lock", "--no-audit",
         "--no-fund", "--ignore-scripts", *specs],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    marker.write_text(json.dumps(OFFICIAL))
    return CACHE / "node_modules"


def official_descriptors() -> dict[str, dict[str, Any]]:
    modules = official_modules()
    env = {**os.environ, "NODE_PATH": str(modules)}
    run = subprocess.run(
        [NODE or "node", "--expose-gc", str(DESCRIBE)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return {m["name"]: m for m in json.loads(run.stdout)["metrics"]}


def our_descriptors(path: Path) -> dict[str, dict[str, Any]]:
    """The same description, read from the preload's OTLP JSON Lines file."""
    found: dict[str, dict[str, Any]] = {}
    for metric in metrics(read_lines(path)):
        kind = next(k for k in ("gauge", "sum", "histogram") if k in metric)
        body = metric[kind]
        described = found.setdefault(metric["name"], {
            "name": metric["name"],
            "unit": metric["unit"],
            "kind": kind,
            "monotonic": body.get("isMonotonic", False) if kind == "sum" else None,
            "attributes": set(),
            "boundaries": body["dataPoints"][0]["explicitBounds"] if kind == "histogram" else None,
        })
        for point in body["dataPoints"]:
            described["attributes"] |= set(attributes(point.get("attributes")))
    for described in found.values():
        described["attributes"] = sorted(described["attributes"] - POINT_ATTRIBUTES_OF_OURS)
    return found


@pytest.fixture(scope="module")
def official() -> dict[str, dict[str, Any]]:
    return official_descriptors()


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    # Module scope runs outside the per-test environment isolation: say everything explicitly.
    data_dir = tmp_path_factory.mktemp("node-names")
    env = {c.ENV_DATA_DIR: str(data_dir), c.ENV_EXPORTER: "file", c.ENV_AGENT_ID: "a-1"}
    done = run_node("gc_once.js", node_args=("--expose-gc",), env=env)
    assert done.returncode == 0, done.stderr
    (path,) = metric_files(data_dir)
    return our_descriptors(path)


def test_the_preload_emits_every_metric_the_official_instrumentation_emits(
    official: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]]
) -> None:
    assert set(official) <= set(ours), set(official) - set(ours)
    assert set(ours) - set(official) == OURS_ONLY


@pytest.mark.parametrize("name", sorted(NODE_METRICS - OURS_ONLY))
def test_unit_instrument_attributes_and_buckets_match_the_official(
    official: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]], name: str
) -> None:
    assert ours[name] == official[name]


def test_the_conventions_name_exactly_what_the_preload_emits(
    ours: dict[str, dict[str, Any]],
) -> None:
    assert set(ours) == NODE_METRICS
    for name, described in ours.items():
        assert described["unit"] == c.UNITS[name]
    assert tuple(ours[c.V8JS_GC_DURATION]["boundaries"]) == c.V8JS_GC_DURATION_BOUNDS
