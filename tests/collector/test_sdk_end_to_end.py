"""The demo swarm through the real Collector: same spans and series as the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from swarmscope import conventions as conv
from swarmscope.collector import otlpfiles

pytestmark = [pytest.mark.collector, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SWARM = REPO / "examples" / "mesh_swarm.py"
SWARM_ARGS = ["--agents", "3", "--duration", "3", "--tasks", "2"]
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
                    for point in otlpfiles.data_points(metric):
                        seen.add((metric["name"], resource, _attrs(point.get("attributes", []))))
    counts = Counter(name for name, _, _ in seen)
    for name in RUN_DEPENDENT_SERIES & set(counts):
        counts[name] = 1
    return counts


def summary(traces: list[dict], metrics: list[dict]) -> tuple[Counter, Counter]:
    return otlpfiles.span_name_counts(traces), series_counts(metrics)


@pytest.fixture(scope="module")
def embedded_default(tmp_path_factory) -> tuple[Counter, Counter]:
    """The same swarm on the embedded default: the sdk writes the files itself."""
    data_dir = tmp_path_factory.mktemp("embedded")
    run_swarm(data_dir, **{conv.ENV_EXPORTER: "file"})
    sdk_dir = data_dir / "sdk"
    traces = otlpfiles.files(sorted(sdk_dir.glob(f"{conv.SIGNAL_TRACES}.*.jsonl")))
    metrics = otlpfiles.files(sorted(sdk_dir.glob(f"{conv.SIGNAL_METRICS}.*.jsonl")))
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
    traces = otlpfiles.files([collector.settings.signal_file(conv.SIGNAL_TRACES)])
    metrics = otlpfiles.files([collector.settings.signal_file(conv.SIGNAL_METRICS)])
    spans, series = summary(traces, metrics)
    expected_spans, expected_series = embedded_default
    assert spans == expected_spans
    assert series == expected_series

    # `swarmscope ingest` finds the Collector's files with no path: same data directory.
    from swarmscope.analyzer import db
    from swarmscope.analyzer.ingest import ingest

    ingested_files = ingest()
    assert not ingested_files.errors
    con = db.connect(data_dir, read_only=True)
    try:
        (ingested,) = con.execute("SELECT count(*) FROM spans").fetchone()
    finally:
        con.close()
    assert ingested == sum(spans.values())


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
