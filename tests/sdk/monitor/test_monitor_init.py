"""The monitor as swarmscope.init() runs it: an agent process that allocates a known amount of
memory shows up in the embedded default's OTLP JSON Lines metrics file, attributed to its agent,
next to this process's GC metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import swarmscope
from swarmscope import conventions as c

MiB = 2**20
# Allocates 120 MiB (every page written), says so, and waits to be terminated.
HOG = "import sys, time; keep = b'x' * (120 * 2**20); print('ok', flush=True); time.sleep(60)"


def value_of(any_value: dict[str, Any]) -> Any:
    ((kind, value),) = any_value.items()
    return int(value) if kind == "intValue" else value


def points(data_dir: Path) -> list[tuple[str, str, dict[str, Any], float, dict[str, Any]]]:
    """(metric name, unit, point attributes, value, resource attributes) of every number point."""
    files = sorted((data_dir / "sdk").glob(f"{c.SIGNAL_METRICS}.*.jsonl"))
    assert files, f"no metrics file under {data_dir}"
    out = []
    for path in files:
        for line in path.read_text().splitlines():
            for rm in json.loads(line)["resourceMetrics"]:
                resource = {a["key"]: value_of(a["value"]) for a in rm["resource"]["attributes"]}
                for sm in rm["scopeMetrics"]:
                    for metric in sm["metrics"]:
                        body = metric.get("sum") or metric.get("gauge") or metric.get("histogram")
                        for p in body["dataPoints"]:
                            attrs = {
                                a["key"]: value_of(a["value"]) for a in p.get("attributes", [])
                            }
                            value = p.get("asInt", p.get("asDouble", p.get("count", 0)))
                            out.append((metric["name"], metric.get("unit", ""), attrs,
                                        float(value), resource))  # fmt: skip
    return out


def test_agent_memory_reaches_the_metrics_file(data_dir: Path) -> None:
    swarmscope.init(sample_interval=0.1, session_id="monitor-e2e")
    agent = swarmscope.spawn_agent(
        "hog", [sys.executable, "-c", HOG], stdout=subprocess.PIPE, text=True
    )
    try:
        assert agent.popen is not None and agent.popen.stdout is not None
        assert agent.popen.stdout.readline().strip() == "ok"
        tel = swarmscope.session()
        assert tel.monitor is not None and agent.pid in tel.monitor.watched()
        # A few sampling (and export) intervals with the memory held.
        target = tel.monitor.rounds + 5
        while tel.monitor.rounds < target and tel.monitor.running:
            time.sleep(0.05)
    finally:
        agent.terminate(timeout=5)
        swarmscope.shutdown()

    found = points(data_dir)
    units = {name: unit for name, unit, *_ in found}
    for name in (
        c.PROCESS_MEMORY_USAGE, c.PROCESS_MEMORY_VIRTUAL, c.PROCESS_CPU_TIME,
        c.PROCESS_CPU_UTILIZATION, c.PROCESS_THREAD_COUNT, c.PROCESS_FD_COUNT,
        c.PROCESS_CONTEXT_SWITCHES, c.GC_COLLECTIONS, c.HEAP_ALLOCATED_BLOCKS,
        c.SYSTEM_MEMORY_USAGE, c.SYSTEM_PROCESS_COUNT,
    ):  # fmt: skip
        assert units.get(name) == c.UNITS[name], name
    rss = [
        (attrs, value)
        for name, _, attrs, value, resource in found
        if name == c.PROCESS_MEMORY_USAGE and attrs.get(c.PROCESS_PID) == agent.pid
    ]
    assert rss, "the agent's RSS never reached the file"
    assert all(attrs[c.AGENT_INSTANCE_ID] == agent.id for attrs, _ in rss)
    assert max(value for _, value in rss) >= 120 * MiB
    assert all(r[c.SESSION_ID] == "monitor-e2e" for *_, r in found)
    gc_pids = {a[c.PROCESS_PID] for n, _, a, _, _ in found if n == c.GC_COLLECTIONS}
    assert gc_pids == {os.getpid()}
