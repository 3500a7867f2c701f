"""What the monitor exports: metric names, units, instrument kinds and point attributes through
a real OpenTelemetry MeterProvider, the CPython GC metrics against forced collections, and the
OTLP JSON Lines file the official file exporter writes."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.json.file import FileMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    InMemoryMetricReader,
    Metric,
    PeriodicExportingMetricReader,
    Sum,
)
from swarmscope import conventions as c
from swarmscope.monitor.cpython import GcMetrics
from swarmscope.monitor.sampler import ResourceMonitor

PROCESS_METRICS = [
    c.PROCESS_MEMORY_USAGE,
    c.PROCESS_MEMORY_VIRTUAL,
    c.PROCESS_CPU_TIME,
    c.PROCESS_CPU_UTILIZATION,
    c.PROCESS_THREAD_COUNT,
    c.PROCESS_FD_COUNT,
    c.PROCESS_CONTEXT_SWITCHES,
]
SYSTEM_METRICS = [
    c.SYSTEM_MEMORY_USAGE,
    c.SYSTEM_MEMORY_UTILIZATION,
    c.SYSTEM_LOAD_1M,
    c.SYSTEM_LOAD_5M,
    c.SYSTEM_LOAD_15M,
    c.SYSTEM_PROCESS_COUNT,
]
GC_METRICS = [
    c.GC_COLLECTIONS,
    c.GC_COLLECTED_OBJECTS,
    c.GC_UNCOLLECTABLE_OBJECTS,
    c.GC_PAUSE_DURATION,
    c.HEAP_ALLOCATED_BLOCKS,
]
# (kind, monotonic) per metric: counters are monotonic sums, usage figures non-monotonic sums.
KINDS = {
    c.PROCESS_MEMORY_USAGE: (Sum, False),
    c.PROCESS_MEMORY_VIRTUAL: (Sum, False),
    c.PROCESS_CPU_TIME: (Sum, True),
    c.PROCESS_CPU_UTILIZATION: (Gauge, None),
    c.PROCESS_THREAD_COUNT: (Sum, False),
    c.PROCESS_FD_COUNT: (Sum, False),
    c.PROCESS_CONTEXT_SWITCHES: (Sum, True),
    c.SYSTEM_MEMORY_USAGE: (Sum, False),
    c.SYSTEM_MEMORY_UTILIZATION: (Gauge, None),
    c.SYSTEM_LOAD_1M: (Gauge, None),
    c.SYSTEM_LOAD_5M: (Gauge, None),
    c.SYSTEM_LOAD_15M: (Gauge, None),
    c.SYSTEM_PROCESS_COUNT: (Sum, False),
    c.GC_COLLECTIONS: (Sum, True),
    c.GC_COLLECTED_OBJECTS: (Sum, True),
    c.GC_UNCOLLECTABLE_OBJECTS: (Sum, True),
    c.GC_PAUSE_DURATION: (Histogram, None),
    c.HEAP_ALLOCATED_BLOCKS: (Gauge, None),
}


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def collect(reader: InMemoryMetricReader) -> dict[str, Metric]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }


def test_every_metric_with_its_unit_kind_and_attributes(sleeper: subprocess.Popen) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    mon = ResourceMonitor(provider.get_meter(c.SCOPE_NAME), interval=0.1)
    mon.watch(sleeper.pid, agent_id="agent-7", agent_name="sleepy")
    mon.start()  # times GC pauses
    gc.collect()
    mon.stop()
    metrics = collect(reader)
    try:
        assert set(metrics) == set(PROCESS_METRICS + SYSTEM_METRICS + GC_METRICS)
        for name, metric in metrics.items():
            assert metric.unit == c.UNITS[name], name
            kind, monotonic = KINDS[name]
            assert isinstance(metric.data, kind), name
            if monotonic is not None:
                assert metric.data.is_monotonic is monotonic, name
        for name in PROCESS_METRICS:
            [point, *more] = metrics[name].data.data_points
            assert point.attributes[c.PROCESS_PID] == sleeper.pid
            assert point.attributes[c.AGENT_INSTANCE_ID] == "agent-7"
        modes = {p.attributes[c.CPU_MODE] for p in metrics[c.PROCESS_CPU_TIME].data.data_points}
        assert modes == {"user", "system"}
        switch_types = {
            p.attributes[c.CONTEXT_SWITCH_TYPE]
            for p in metrics[c.PROCESS_CONTEXT_SWITCHES].data.data_points
        }
        assert switch_types == {"voluntary", "involuntary"}
        states = {
            p.attributes[c.SYSTEM_MEMORY_STATE]: p.value
            for p in metrics[c.SYSTEM_MEMORY_USAGE].data.data_points
        }
        assert set(states) == {"used", "free", "cached", "buffers"} and states["used"] > 0
        counts = {
            p.attributes[c.PROCESS_STATE]: p.value
            for p in metrics[c.SYSTEM_PROCESS_COUNT].data.data_points
        }
        assert set(counts) == {"running", "sleeping", "stopped", "defunct"}
        assert counts["sleeping"] >= 1  # the sleeper itself
        generations = {
            p.attributes[c.GC_GENERATION] for p in metrics[c.GC_COLLECTIONS].data.data_points
        }
        assert generations == {0, 1, 2}
        pauses = metrics[c.GC_PAUSE_DURATION].data.data_points
        assert any(p.attributes[c.GC_GENERATION] == 2 and p.count >= 1 for p in pauses)
    finally:
        provider.shutdown()


def test_only_process_metrics_when_system_and_runtime_are_off() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    mon = ResourceMonitor(provider.get_meter("t"), system=False, python_runtime=False)
    mon.watch(os.getpid())
    assert set(collect(reader)) == set(PROCESS_METRICS)
    provider.shutdown()


# --- CPython GC ---------------------------------------------------------------------------------
def gc_points(reader: InMemoryMetricReader, name: str) -> dict[int, object]:
    return {p.attributes[c.GC_GENERATION]: p for p in collect(reader)[name].data.data_points}


def test_gc_counters_move_with_forced_collections() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    GcMetrics(provider.get_meter("t"), agent_id="gc-agent")
    before = gc_points(reader, c.GC_COLLECTIONS)
    collected_before = gc_points(reader, c.GC_COLLECTED_OBJECTS)[2].value
    for _ in range(5):
        cycle: list = []
        cycle.append(cycle)  # only the cycle collector can free this
        del cycle
        gc.collect()
    after = gc_points(reader, c.GC_COLLECTIONS)
    assert after[2].value - before[2].value >= 5
    assert gc_points(reader, c.GC_COLLECTED_OBJECTS)[2].value - collected_before >= 5
    assert after[2].attributes[c.AGENT_INSTANCE_ID] == "gc-agent"
    assert after[2].attributes[c.PROCESS_PID] > 0
    heap = collect(reader)[c.HEAP_ALLOCATED_BLOCKS].data.data_points[0].value
    assert heap > 1000
    provider.shutdown()


def test_gc_pauses_are_timed_only_while_installed() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    gcm = GcMetrics(provider.get_meter("t"))
    gcm.install()
    gcm.install()  # idempotent: one hook
    assert gc.callbacks.count(gcm._on_gc) == 1
    for _ in range(4):
        gc.collect()
    gcm.uninstall()
    assert gcm._on_gc not in gc.callbacks
    pauses = gc_points(reader, c.GC_PAUSE_DURATION)
    assert pauses[2].count >= 4 and pauses[2].sum > 0
    assert pauses[2].max < 60
    gc.collect()  # not timed any more
    assert gcm.flush() == 0
    gcm.uninstall()
    provider.shutdown()


# --- the file on disk ---------------------------------------------------------------------------
def test_otlp_json_lines_file(sleeper: subprocess.Popen, tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    exporter = FileMetricExporter(path)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=100)
    provider = MeterProvider(metric_readers=[reader])
    mon = ResourceMonitor(provider.get_meter(c.SCOPE_NAME), interval=0.1)
    mon.watch(sleeper.pid, agent_id="filed")
    mon.start()
    for _ in range(3):
        reader.collect()
    mon.stop()
    provider.shutdown()

    lines = path.read_text().splitlines()
    assert len(lines) >= 3
    seen: dict[str, str] = {}
    pids = set()
    for line in lines:
        doc = json.loads(line)  # every line is one MetricsData object
        for rm in doc["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                assert sm["scope"]["name"] == c.SCOPE_NAME
                for metric in sm["metrics"]:
                    seen[metric["name"]] = metric.get("unit", "")
                    body = metric.get("sum") or metric.get("gauge") or {}
                    for point in body.get("dataPoints", []):
                        attrs = {a["key"]: a["value"] for a in point.get("attributes", [])}
                        if c.PROCESS_PID in attrs and c.AGENT_INSTANCE_ID in attrs:
                            pids.add(int(attrs[c.PROCESS_PID]["intValue"]))
                            assert attrs[c.AGENT_INSTANCE_ID] == {"stringValue": "filed"}
    assert {name: seen.get(name) for name in PROCESS_METRICS} == {
        name: c.UNITS[name] for name in PROCESS_METRICS
    }
    assert set(SYSTEM_METRICS) <= set(seen)
    assert pids == {sleeper.pid}


def test_cpu_utilization_is_split_by_cpu_mode() -> None:
    busy = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 30\nwhile time.time() < end: pass"]
    )
    try:
        reader = InMemoryMetricReader()
        provider = MeterProvider(metric_readers=[reader])
        mon = ResourceMonitor(provider.get_meter(c.SCOPE_NAME), system=False,
                              python_runtime=False)  # fmt: skip
        mon.watch(busy.pid, agent_id="spinner")
        mon.sample_once()
        time.sleep(0.5)
        # the collection takes its own round: 0.5 s after the first
        points = collect(reader)[c.PROCESS_CPU_UTILIZATION].data.data_points
        (sample,) = [s for s, _ in mon.latest() if s.pid == busy.pid]
    finally:
        busy.kill()
        busy.wait()
    by_mode = {p.attributes[c.CPU_MODE]: p for p in points
               if p.attributes[c.PROCESS_PID] == busy.pid}  # fmt: skip
    assert set(by_mode) == {c.CpuMode.USER, c.CpuMode.SYSTEM}
    user, system = by_mode[c.CpuMode.USER].value, by_mode[c.CpuMode.SYSTEM].value
    # a busy loop: mostly user time, and together one core's share of the machine at most
    assert user > system >= 0.0
    assert user + system == pytest.approx(sample.cpu_utilization)
    assert 0.2 / (os.cpu_count() or 1) < user + system <= 1.0 / (os.cpu_count() or 1) + 0.05
    for point in by_mode.values():
        assert point.attributes[c.AGENT_INSTANCE_ID] == "spinner"
        assert c.GEN_AI_AGENT_ID not in point.attributes
