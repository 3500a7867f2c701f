"""The real Collector: OTLP in, OTLP JSON Lines files out, restarts, forwarding, clear errors."""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from pathlib import Path

import otlp_files
import pytest
from swarmscope import conventions as conv
from swarmscope.collector.distribution import CollectorError
from swarmscope.collector.runner import running, seal_partial_line, start

pytestmark = pytest.mark.collector

EXAMPLES = Path(__file__).parent / "otlp-examples"
SIGNALS = {"traces": "trace.json", "metrics": "metrics.json", "logs": "logs.json"}


def example(signal: str) -> dict:
    return json.loads((EXAMPLES / SIGNALS[signal]).read_text())


def generated_traces(count: int, service: str) -> dict:
    """One request holding ``count`` spans with fresh random ids."""
    trace_id = secrets.token_hex(16)
    spans = [
        {
            "traceId": trace_id,
            "spanId": secrets.token_hex(8),
            "name": f"work {i % 5}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
            "endTimeUnixNano": str(1_700_000_000_000_001_000 + i),
        }
        for i in range(count)
    ]
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
        ]
    }


def wait_for(predicate, timeout: float = 20.0) -> bool:
    """Poll until ``predicate()`` is true; False on timeout (the assertion then says what)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_official_otlp_examples_arrive_in_the_files(start_collector, post_json):
    collector = start_collector()
    for signal in SIGNALS:
        assert post_json(collector, signal, example(signal)) == 200
    assert collector.stop(), "the Collector did not stop gracefully"

    settings = collector.settings
    traces = list(otlp_files.read_documents(settings.signal_file(conv.SIGNAL_TRACES)))
    sent_ids = otlp_files.span_ids([example("traces")])
    assert sent_ids and otlp_files.span_ids(traces) == sent_ids
    assert otlp_files.span_name_counts(traces) == otlp_files.span_name_counts([example("traces")])

    metrics = list(otlp_files.read_documents(settings.signal_file(conv.SIGNAL_METRICS)))
    expected_points = otlp_files.metric_point_counts([example("metrics")])
    assert otlp_files.metric_point_counts(metrics) == expected_points
    assert set(expected_points) == {"my.counter", "my.gauge", "my.histogram"}

    logs = list(otlp_files.read_documents(settings.signal_file(conv.SIGNAL_LOGS)))
    sent_bodies = [r["body"] for r in otlp_files.log_records([example("logs")])]
    assert [r["body"] for r in otlp_files.log_records(logs)] == sent_bodies


def test_kill_and_restart_keeps_earlier_data_and_records_later_data(
    start_collector, collector_settings, post_json
):
    settings = collector_settings()
    traces_file = settings.signal_file(conv.SIGNAL_TRACES)
    before = generated_traces(50, "before-crash")
    first = start_collector(settings)
    assert post_json(first, "traces", before) == 200
    # The file exporter flushes every second; wait until the spans are on disk, then kill.
    assert wait_for(lambda: traces_file.exists() and traces_file.read_bytes().endswith(b"\n"))
    first.kill()
    assert not first.alive()
    lines_before = traces_file.read_text().splitlines()

    second = start_collector(settings)
    after = generated_traces(50, "after-restart")
    assert post_json(second, "traces", after) == 200
    assert second.stop()

    lines = traces_file.read_text().splitlines()
    assert lines[: len(lines_before)] == lines_before, "earlier lines changed on restart"
    documents = list(otlp_files.read_documents(traces_file))  # every line is whole JSON
    written = otlp_files.span_ids(documents)
    assert otlp_files.span_ids([before]) <= written
    assert otlp_files.span_ids([after]) <= written


def test_a_line_cut_short_by_a_crash_is_moved_aside_on_restart(
    start_collector, collector_settings, post_json
):
    settings = collector_settings()
    traces_file = settings.signal_file(conv.SIGNAL_TRACES)
    traces_file.parent.mkdir(parents=True)
    whole = json.dumps(generated_traces(3, "whole"))
    traces_file.write_text(whole + "\n" + whole[:40])  # killed in the middle of a line

    collector = start_collector(settings)
    after = generated_traces(5, "after-restart")
    assert post_json(collector, "traces", after) == 200
    assert collector.stop()

    documents = list(otlp_files.read_documents(traces_file))
    assert documents[0] == json.loads(whole)
    assert otlp_files.span_ids([after]) <= otlp_files.span_ids(documents)
    (fragment,) = traces_file.parent.glob("traces.jsonl.partial-*")
    assert fragment.read_text() == whole[:40]


def test_forwarding_delivers_every_span_the_first_collector_wrote(
    start_collector, collector_settings, post_json, tmp_path
):
    stack = start_collector(collector_settings(data_dir=tmp_path / "existing-stack"))
    local = start_collector(
        collector_settings(forward_endpoint=f"{stack.settings.host}:{stack.settings.grpc_port}")
    )
    assert any(p.name == "otel-collector.forward.yaml" for p in local.settings.configs)
    for batch in range(10):
        assert post_json(local, "traces", generated_traces(100, f"batch-{batch}")) == 200
    assert post_json(local, "metrics", example("metrics")) == 200
    # Stopping the first drains its forwarding queue before the stand-in stack stops.
    assert local.stop()
    assert stack.stop()

    wrote = otlp_files.files([local.settings.signal_file(conv.SIGNAL_TRACES)])
    received = otlp_files.files([stack.settings.signal_file(conv.SIGNAL_TRACES)])
    assert len(otlp_files.span_ids(wrote)) == 1000
    assert otlp_files.span_ids(received) == otlp_files.span_ids(wrote)
    forwarded_metrics = otlp_files.files([stack.settings.signal_file(conv.SIGNAL_METRICS)])
    assert otlp_files.metric_point_counts(forwarded_metrics) == otlp_files.metric_point_counts(
        [example("metrics")]
    )


def test_port_taken_gives_a_clear_error(collector_binary, collector_settings):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        settings = collector_settings(grpc_port=taken)
        with pytest.raises(CollectorError) as error:
            start(settings, timeout=20)
    message = str(error.value)
    assert f"OTLP/gRPC receiver port {taken}" in message
    assert "already in use" in message and conv.ENV_OTLP_GRPC_PORT in message
    assert running(settings.data_dir) is None


def test_a_second_start_on_the_same_data_dir_is_refused(start_collector, collector_settings):
    first = start_collector()
    with pytest.raises(CollectorError, match=f"pid {first.pid}"):
        start(collector_settings())
    assert first.alive()


def test_the_collector_stays_bound_to_localhost_by_default(collector_settings):
    settings = collector_settings()
    assert settings.host == "127.0.0.1"
    assert settings.env()[conv.ENV_DATA_DIR] == str(settings.data_dir)
    assert os.path.isabs(settings.env()[conv.ENV_DATA_DIR])


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        (b'{"a":1}\n{"b"', b'{"a":1}\n'),
        (b'{"only a fragment', b""),
        (b'{"a":1}\n' + b"x" * 200_000, b'{"a":1}\n'),  # fragment longer than one read
        (b'{"a":1}\n', b'{"a":1}\n'),
    ],
)
def test_seal_partial_line_keeps_whole_lines_and_sets_the_rest_aside(tmp_path, content, kept):
    path = tmp_path / "traces.jsonl"
    path.write_bytes(content)
    aside = seal_partial_line(path)
    assert path.read_bytes() == kept
    if kept == content:
        assert aside is None
    else:
        assert aside is not None and aside.read_bytes() == content[len(kept) :]
