"""The demo swarm through the real Collector: same spans and series as the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import otlp_files
import pytest
from swarmscope import conventions as conv

pytestmark = [pytest.mark.collector, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SWARM = REPO / "examples" / "mesh_swarm.py"
# --finish-tasks: the same workload on a busy machine, so two runs can be compared.
SWARM_ARGS = ["--agents", "3", "--duration", "3", "--tasks", "2", "--finish-tasks"]
# Sampled states come and go with the moment of sampling, so they do not define a series.
STATE_ATTRIBUTES = {conv.PROCESS_STATE}
# A histogram point exists only for GC generations that actually collected during the run,
# which differs between runs of the same swarm; its presence is compared, not its series.
RUN_DEPENDENT_SERIES = {conv.GC_PAUSE_DURATION}


def run_swarm(data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        conv.ENV_DATA_DIR: str(data_dir),
        conv.ENV_SAMPLE_INTERVAL: "0.25",
        **env,
    }
    proc = subprocess.run(
        [sys.executable, str(SWARM), *SWARM_ARGS],
        env=environment, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _attrs(attributes: list[dict]) -> frozenset:
    return frozenset(
        (a["key"], repr(a["value"])) for a in attributes if a["key"] not in STATE_ATTRIBUTES
    )


def series_counts(documents: list[dict]) -> Counter[str]:
    """Distinct series (resource + point attributes) per metric name."""
    seen: set[tuple] = set()
    for doc in documents:
        for resource_metrics in doc.get("resourceMetrics", []):
            resource = _attrs(resource_metrics.get("resource", {}).get("attributes", []))
            for scope_metrics in resource_metrics.get("scopeMetrics", []):
                for metric in scope_metrics.get("metrics", []):
                    for point in otlp_files.data_points(metric):
                        seen.add((metric["name"], resource, _attrs(point.get("attributes", []))))
    counts = Counter(name for name, _, _ in seen)
    for name in RUN_DEPENDENT_SERIES & set(counts):
        counts[name] = 1
    return counts


def summary(traces: list[dict], metrics: list[dict]) -> tuple[Counter, Counter]:
    return otlp_files.span_name_counts(traces), series_counts(metrics)


@pytest.fixture(scope="module")
def embedded_default(tmp_path_factory) -> tuple[Counter, Counter]:
    """The same swarm on the embedded default: the sdk writes the files itself."""
    data_dir = tmp_path_factory.mktemp("embedded")
    run_swarm(data_dir, **{conv.ENV_EXPORTER: "file"})
    sdk_dir = data_dir / "sdk"
    traces = otlp_files.files(sorted(sdk_dir.glob(f"{conv.SIGNAL_TRACES}.*.jsonl")))
    metrics = otlp_files.files(sorted(sdk_dir.glob(f"{conv.SIGNAL_METRICS}.*.jsonl")))
    spans, series = summary(traces, metrics)
    assert spans and series
    return spans, series


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_demo_swarm_through_the_collector_matches_the_embedded_default(
    protocol, start_collector, embedded_default
):
    collector = start_collector()
    endpoint = (
        collector.settings.grpc_endpoint if protocol == "grpc" else collector.settings.http_endpoint
    )
    run_swarm(
        collector.settings.data_dir,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
    )
    assert collector.stop()

    data_dir = collector.settings.data_dir
    assert not list(data_dir.glob("sdk/*.jsonl")), "the sdk wrote files instead of exporting"
    traces = otlp_files.files([collector.settings.signal_file(conv.SIGNAL_TRACES)])
    metrics = otlp_files.files([collector.settings.signal_file(conv.SIGNAL_METRICS)])
    spans, series = summary(traces, metrics)
    expected_spans, expected_series = embedded_default
    assert spans == expected_spans
    assert series == expected_series

    # `swarmscope ingest` finds the Collector's files with no path: same data directory.
    cli = [sys.executable, "-m", "swarmscope.cli"]
    env = {**os.environ, conv.ENV_DATA_DIR: str(data_dir)}
    ingest = subprocess.run([*cli, "ingest"], env=env, capture_output=True, text=True)
    assert ingest.returncode == 0 and "problem" not in ingest.stderr, ingest.stderr
    count = subprocess.run(
        [*cli, "sql", "SELECT count(*) AS n FROM spans", "--format", "csv"],
        env=env, capture_output=True, text=True,
    )
    assert count.returncode == 0, count.stderr
    assert int(count.stdout.split()[-1]) == sum(spans.values())


def test_swarm_completes_and_reports_the_loss_when_no_collector_runs(data_dir, port_factory):
    """Nothing listens on the endpoint: the swarm must still finish, and say what it lost."""
    port = port_factory()
    proc = run_swarm(
        data_dir,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    assert "3 agents" in proc.stdout
    assert "lost" in proc.stderr and str(port) in proc.stderr, proc.stderr
