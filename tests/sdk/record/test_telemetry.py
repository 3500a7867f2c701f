"""Export: the embedded OTLP JSON Lines files, OTLP to nowhere, fork, idempotent init."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import swarmscope
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_files import load_spans, metric_names, read_lines, sdk_files
from swarmscope import conventions as c
from swarmscope.record.exporters import ReportingMetricExporter, ReportingSpanExporter

_ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def _hex_ids_to_base64(node):
    """OTLP JSON writes ids as hex; protobuf's JSON mapping expects base64 bytes."""
    if isinstance(node, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in _ID_KEYS and isinstance(v, str)
            else _hex_ids_to_base64(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def _count_exports(exporter: ReportingSpanExporter | ReportingMetricExporter) -> list[int]:
    """Count the inner exporter's calls that had something to write."""
    calls: list[int] = []
    inner = exporter.inner
    original = inner.export

    def counting(data, *args, **kwargs):
        empty = not data if isinstance(exporter, ReportingSpanExporter) else not any(
            m.data.data_points
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        )
        if not empty:
            calls.append(1)
        return original(data, *args, **kwargs)

    inner.export = counting
    return calls


def test_files_are_otlp_json_lines_one_line_per_export(data_dir: Path) -> None:
    tel = swarmscope.init(sample_interval=0.1, max_agents=3)
    span_calls = _count_exports(tel._span_exporter)
    metric_calls = _count_exports(tel._metric_exporter)
    agent = swarmscope.spawn_agent("writer", kind="inproc")
    for number in range(5):
        with agent.task(f"step-{number}"):
            pass
        tel.tracer_provider.force_flush()  # one export per step
    time.sleep(0.5)  # a few periodic metric exports
    agent.terminate()
    swarmscope.shutdown()

    pattern = re.compile(
        rf"(traces|metrics)\.{re.escape(socket.gethostname())}\.{os.getpid()}\.\d+\.jsonl"
    )
    traces, metrics = sdk_files(data_dir, "traces"), sdk_files(data_dir, "metrics")
    assert len(traces) == 1 and len(metrics) == 1
    for path in traces + metrics:
        assert pattern.fullmatch(path.name), path.name
    trace_lines, metric_lines = read_lines(traces[0]), read_lines(metrics[0])
    assert len(trace_lines) == len(span_calls) >= 5
    assert len(metric_lines) == len(metric_calls) >= 2
    for line in trace_lines:
        json_format.ParseDict(_hex_ids_to_base64(line), ExportTraceServiceRequest())
    for line in metric_lines:
        json_format.ParseDict(line, ExportMetricsServiceRequest())
    assert len(load_spans(data_dir)) == 5 + 2 + 2  # tasks, create/terminate, session, audit
    assert c.PROCESS_MEMORY_USAGE in metric_names(data_dir)


UNREACHABLE = textwrap.dedent(
    """
    import time, swarmscope
    swarmscope.init(sample_interval=0.2)
    agent = swarmscope.spawn_agent("lonely", kind="inproc")
    for i in range(20):
        with agent.task("t"):
            pass
    time.sleep(1.0)
    agent.terminate()
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_unreachable_endpoint_does_not_hold_the_program(
    protocol: str, port_factory, data_dir: Path
) -> None:
    port = port_factory()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE], env=env, capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert elapsed < 15, f"exit took {elapsed:.1f}s"  # liveness bound, not a benchmark
    swarmscope_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("swarmscope:")]
    assert any(f"127.0.0.1:{port}" in ln and "lost" in ln for ln in swarmscope_lines), (
        result.stderr[-3000:]
    )
    assert not (data_dir / "sdk").exists()  # OTLP chosen: no embedded files


def test_forked_child_writes_its_own_files(data_dir: Path) -> None:
    tel = swarmscope.init(sample_interval=0.2)
    with swarmscope.task("before-fork"):
        pass
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            with swarmscope.task("in-child"):
                pass
            code = 0 if swarmscope.shutdown() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with swarmscope.task("after-fork"):
        pass
    swarmscope.shutdown()

    found = load_spans(data_dir)
    files = {s.attrs[c.TASK_NAME]: s.file for s in found if c.TASK_NAME in s.attrs}
    assert str(pid) in files["in-child"].name
    assert files["before-fork"] == files["after-fork"] != files["in-child"]
    assert {s.resource[c.SESSION_ID] for s in found} == {tel.session_id}
    assert [s.name for s in found].count(c.SPAN_SESSION) == 1  # the child does not end it
    assert len(sdk_files(data_dir, "metrics")) == 2


def test_init_is_idempotent_until_shutdown(data_dir: Path) -> None:
    first = swarmscope.init(sample_interval=0.5)
    assert swarmscope.init(session_id="ignored") is first
    assert swarmscope.session().id == first.session_id
    swarmscope.shutdown()
    swarmscope.shutdown()  # twice is fine
    second = swarmscope.init(sample_interval=0.5)
    assert second is not first and second.session_id != first.session_id
    swarmscope.shutdown()


def test_exporter_none_writes_nothing(data_dir: Path) -> None:
    swarmscope.init(exporter="none", monitor=False)
    with swarmscope.task("quiet"):
        pass
    swarmscope.shutdown()
    assert not (data_dir / "sdk").exists()


def test_resource_carries_session_swarm_and_host(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "my-swarm")
    tel = swarmscope.init(
        session_id="s-42", topology="mesh", strategy="balanced", max_agents=5,
        persistence="memory", monitor=False,
    )  # fmt: skip
    swarmscope.shutdown()
    attributes = dict(tel.resource.attributes)
    assert attributes[c.SESSION_ID] == "s-42"
    assert attributes[c.SERVICE_NAME] == "my-swarm"
    assert attributes["deployment.environment"] == "test"
    assert attributes[c.SWARM_TOPOLOGY] == "mesh" and attributes[c.SWARM_MAX_AGENTS] == 5
    assert attributes[c.SWARM_STRATEGY] == "balanced"
    assert attributes[c.SWARM_PERSISTENCE] == "memory"
    assert attributes[c.HOST_CPU_COUNT] == os.cpu_count()
    assert attributes[c.HOST_MEMORY_TOTAL] > 0


def test_child_env_carries_session_agent_and_traceparent(data_dir: Path) -> None:
    tel = swarmscope.init(monitor=False)
    agent = swarmscope.spawn_agent("planner", kind="inproc")
    env = swarmscope.child_env(agent)
    swarmscope.shutdown()
    assert env[c.ENV_SESSION_ID] == tel.session_id
    assert env[c.ENV_AGENT_ID] == agent.id and env[c.ENV_AGENT_NAME] == "planner"
    assert env[c.ENV_DATA_DIR] == str(data_dir.absolute())
    version, trace_id, span_id, _flags = env[c.ENV_TRACEPARENT].split("-")
    assert (version, trace_id, span_id) == (
        "00",
        format(agent.span_context.trace_id, "032x"),
        format(agent.span_context.span_id, "016x"),
    )


MP_SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys, swarmscope

    def work():
        swarmscope.init()
        with swarmscope.task("in-worker"):
            pass

    if __name__ == "__main__":
        swarmscope.init(sample_interval=30)  # no periodic export: only the exit flush counts
        worker = multiprocessing.get_context(sys.argv[1]).Process(target=work)
        worker.start()
        worker.join()
        print(worker.pid, worker.exitcode)
    """
)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_workers_flush_before_os_exit(
    method: str, tmp_path: Path, data_dir: Path
) -> None:
    script = tmp_path / "mp_script.py"
    script.write_text(MP_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), method], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    worker_pid, exit_code = result.stdout.split()
    assert exit_code == "0"
    work = next(s for s in load_spans(data_dir) if s.attrs.get(c.TASK_NAME) == "in-worker")
    assert f".{worker_pid}." in work.file.name


def test_the_last_sample_does_not_count_the_threads_that_flush_telemetry(data_dir: Path) -> None:
    """The final collection of a process sampling itself runs while swarmscope's shutdown
    threads flush; counted, they were a thread 'left behind' in every cleanly ended session."""
    code = textwrap.dedent("""
        import time, swarmscope
        swarmscope.init(service_name="threads", sample_interval=0.2)
        time.sleep(1.5)
        swarmscope.shutdown()
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    (path,) = sdk_files(data_dir, c.SIGNAL_METRICS)
    counts = [(int(p["timeUnixNano"]), int(p["asInt"])) for line in read_lines(path)
              for rm in line["resourceMetrics"] for sm in rm["scopeMetrics"]
              for m in sm["metrics"] if m["name"] == c.PROCESS_THREAD_COUNT
              for p in (m.get("gauge") or m.get("sum"))["dataPoints"]]  # fmt: skip
    counts.sort()
    assert len(counts) >= 3
    *running, (_, last) = counts
    typical = sorted(n for _, n in running)[len(running) // 2]
    assert last <= typical  # the last is no higher than while it ran
