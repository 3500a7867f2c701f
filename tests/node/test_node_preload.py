"""The Node.js preload, run in real Node programs that contain no swarmscope code: what it
records, and that the programs behave exactly as they do without it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from node_runs import (
    FAST_INTERVAL,
    NODE,
    PRELOAD,
    PROGRAMS,
    file_by_agent,
    heap_used_totals,
    metric_files,
    needs_node,
    points,
    resource_of,
    run_node,
    series,
)
from otlp_files import metrics, read_lines
from swarmscope import conventions as c

pytestmark = needs_node

MB = 1024 * 1024


# --- what it records -------------------------------------------------------------------------


def test_each_forked_worker_has_its_own_heap_and_gc_series_and_only_the_grower_grows(
    data_dir: Path,
) -> None:
    env = {
        c.ENV_NODE_OPTIONS: f"--require {PRELOAD}",  # as the injector will: children inherit it
        c.ENV_SESSION_ID: "swarm-session",
    }
    done = run_node("swarm.js", preload=False, env=env)
    assert done.returncode == 0, done.stderr
    assert b"all workers done" in done.stdout

    by_agent = file_by_agent(data_dir)
    workers = {agent: path for agent, path in by_agent.items() if agent}
    assert sorted(workers) == ["worker-0-grow", "worker-1-churn", "worker-2-churn"]
    pids = {resource_of(path)[c.PROCESS_PID] for path in workers.values()}
    assert len(pids) == 3  # one file per process
    for agent, path in workers.items():
        assert resource_of(path)[c.SESSION_ID] == "swarm-session"
        assert points(path, c.V8JS_HEAP_USED), f"{agent}: no heap series"
        assert points(path, c.V8JS_GC_DURATION), f"{agent}: no GC series"

    # The grower keeps ~40 MB/s; the churners' heap only swings within the young generation
    # (its semi-spaces are 16 MB in Node 20), whatever the machine's load.
    growth = {agent: _growth(heap_used_totals(path)) for agent, path in workers.items()}
    assert growth["worker-0-grow"] > 40 * MB, growth
    assert growth["worker-1-churn"] < 20 * MB, growth
    assert growth["worker-2-churn"] < 20 * MB, growth


def _growth(totals: list[float]) -> float:
    """Median of the last three exports minus median of the first three: a trend, not noise."""
    assert len(totals) >= 4, totals
    return statistics.median(totals[-3:]) - statistics.median(totals[:3])


def test_a_program_that_blocks_its_loop_in_bursts_shows_far_more_loop_delay_than_an_idle_one(
    data_dir: Path, tmp_path: Path
) -> None:
    idle_dir = tmp_path / "idle-data"
    burst = run_node("loop_bursts.js", env={"DURATION_MS": "2000"})
    idle = run_node("idle.js", env={"DURATION_MS": "2000", c.ENV_DATA_DIR: str(idle_dir)})
    assert burst.returncode == idle.returncode == 0

    (burst_file,) = metric_files(data_dir)
    (idle_file,) = metric_files(idle_dir)
    burst_max = statistics.median(series(burst_file, c.NODEJS_LOOP_DELAY_MAX))
    idle_max = statistics.median(series(idle_file, c.NODEJS_LOOP_DELAY_MAX))
    burst_p99 = max(series(burst_file, c.NODEJS_LOOP_DELAY_P99))
    assert burst_max > 0.1, burst_max  # the 200 ms waits, in seconds
    assert burst_p99 > 0.1, burst_p99
    assert idle_max < 0.1, idle_max
    assert burst_max > 3 * idle_max, (burst_max, idle_max)


def test_the_points_carry_the_pid_and_agent_and_the_resource_names_the_process(
    data_dir: Path,
) -> None:
    done = run_node("idle.js", env={"DURATION_MS": "500", c.ENV_AGENT_ID: "coder-1a2b3c4d"})
    assert done.returncode == 0
    (path,) = metric_files(data_dir)
    resource = resource_of(path)
    assert resource[c.PROCESS_RUNTIME_NAME] == c.NODEJS_RUNTIME_NAME
    assert resource[c.SERVICE_NAME] == "idle.js"
    assert resource[c.PROCESS_PARENT_PID] == os.getpid()
    assert resource[c.PROCESS_RUNTIME_VERSION][0].isdigit()
    for metric in metrics(read_lines(path)):
        for point in points(path, metric["name"]):
            assert point["attrs"][c.PROCESS_PID] == resource[c.PROCESS_PID]
            assert point["attrs"][c.AGENT_INSTANCE_ID] == "coder-1a2b3c4d"
    # <data_dir>/sdk/metrics.<host>.<pid>.<start_ns>.jsonl, as the Python sdk names its files
    stem = path.name.removeprefix(f"{c.SIGNAL_METRICS}.").removesuffix(".jsonl")
    host, pid, start_ns = stem.rsplit(".", 2)
    assert (host, int(pid)) == (resource[c.HOST_NAME], resource[c.PROCESS_PID])
    assert abs(int(start_ns) / 1e9 - time.time()) < 60


# --- the program is unchanged ----------------------------------------------------------------

EXITS = [("ok", 0), ("exit3", 3), ("throw", 1), ("sigterm", -signal.SIGTERM), ("handled", 5)]


@pytest.mark.parametrize(("how", "code"), EXITS, ids=[how for how, _ in EXITS])
def test_stdout_and_exit_code_are_the_same_with_and_without_the_preload_and_it_flushes(
    data_dir: Path, how: str, code: int
) -> None:
    bare = run_node("exits.js", how, preload=False)
    loaded = run_node("exits.js", how)
    assert bare.returncode == loaded.returncode == code
    assert loaded.stdout == bare.stdout
    assert b"swarmscope" not in loaded.stderr
    (path,) = metric_files(data_dir)
    assert points(path, c.V8JS_HEAP_USED), "nothing flushed"


def test_a_program_that_exits_on_its_first_line_still_flushes_one_line(data_dir: Path) -> None:
    done = run_node("early_exit.js")
    assert done.returncode == 0
    assert done.stdout == b"" and done.stderr == b""
    (path,) = metric_files(data_dir)
    assert len(read_lines(path)) >= 1
    assert points(path, c.V8JS_HEAP_USED)


def test_the_programs_own_node_options_are_kept_when_the_preload_is_appended(
    data_dir: Path,
) -> None:
    options = "--max-old-space-size=64"
    bare = run_node("heap_limit.js", preload=False, env={c.ENV_NODE_OPTIONS: options})
    loaded = run_node(
        "heap_limit.js", preload=False, env={c.ENV_NODE_OPTIONS: f"{options} --require {PRELOAD}"}
    )
    assert loaded.stdout == bare.stdout
    limit = json.loads(loaded.stdout)["heap_size_limit"]
    assert limit < 200 * MB  # the default would be gigabytes
    (path,) = metric_files(data_dir)
    assert series(path, c.V8JS_HEAP_LIMIT)[-1] == limit


def test_the_preload_never_keeps_a_program_alive(data_dir: Path) -> None:
    started = time.monotonic()
    done = run_node("early_exit.js", env={c.ENV_SAMPLE_INTERVAL: "30"})
    assert done.returncode == 0
    assert time.monotonic() - started < 10  # a referenced 30 s timer would hold it


# --- failure and configuration ---------------------------------------------------------------


def test_a_data_dir_that_cannot_be_written_is_harmless(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")  # mkdir below a file fails even for root
    bare = run_node("exits.js", "ok", preload=False)
    loaded = run_node("exits.js", "ok", env={c.ENV_DATA_DIR: str(blocker / "data")})
    assert loaded.returncode == 0
    assert loaded.stdout == bare.stdout
    lines = loaded.stderr.decode().splitlines()
    assert len(lines) <= 1, lines
    assert all(line.startswith("swarmscope: ") for line in lines)


def test_exporter_none_records_nothing(data_dir: Path) -> None:
    done = run_node("idle.js", env={"DURATION_MS": "400", c.ENV_EXPORTER: "none"})
    assert done.returncode == 0 and done.stderr == b""
    assert not metric_files(data_dir)


def test_worker_threads_do_not_record_twice_and_a_second_copy_is_not_loaded(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy" / PRELOAD.name
    copy.parent.mkdir()
    shutil.copy(PRELOAD, copy)
    done = run_node("threads.js", node_args=("--require", str(copy)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"done") == 2
    (path,) = metric_files(data_dir)  # one process, one file, despite two threads and copies
    starts = {p["startTimeUnixNano"] for p in points(path, c.V8JS_HEAP_SPACE_SIZE)}
    assert len(starts) == 1


def test_grpc_endpoints_fall_back_to_the_file(data_dir: Path, port_factory) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port_factory()}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "DURATION_MS": "400",
    }
    done = run_node("idle.js", env=env)
    assert done.returncode == 0 and done.stderr == b""
    (path,) = metric_files(data_dir)
    assert points(path, c.V8JS_HEAP_USED)


# --- OTLP/HTTP -------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def otlp_receiver(port_factory):
    received: list[tuple[str, str, bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", port_factory()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("program", ["idle.js", "early_exit.js"])
def test_otlp_http_sends_json_metrics_data(data_dir: Path, otlp_receiver, program: str) -> None:
    endpoint, received = otlp_receiver
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "DURATION_MS": "700",
    }
    done = run_node(program, env=env)
    assert done.returncode == 0 and done.stderr == b""
    assert received, "no export arrived"
    for path, content_type, body in received:
        assert path == "/v1/metrics"
        assert content_type == "application/json"
        document = json.loads(body)
        names = {m["name"] for m in metrics([document])}
        assert c.V8JS_HEAP_USED in names
    assert not metric_files(data_dir)  # sent, not written


def test_an_unreachable_otlp_endpoint_costs_at_most_one_stderr_line(port_factory) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port_factory()}",  # nothing listens
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
    }
    bare = run_node("exits.js", "ok", preload=False, env=env)
    loaded = run_node("exits.js", "ok", env=env)
    assert loaded.returncode == 0
    assert loaded.stdout == bare.stdout
    lines = loaded.stderr.decode().splitlines()
    assert len(lines) <= 1, lines
    assert all(line.startswith("swarmscope: ") for line in lines)


@pytest.mark.parametrize(("version", "records"), [("16.13.2", False), ("16.14.0", True)])
def test_node_versions_older_than_16_14_are_skipped(
    data_dir: Path, version: str, records: bool
) -> None:
    pretend = Path(__file__).resolve().parent / "helpers" / "pretend_node_version.cjs"
    done = run_node(
        "early_exit.js",
        preload=False,
        node_args=("--require", str(pretend), "--require", str(PRELOAD)),
        env={"PRETEND_NODE_VERSION": version},
    )
    assert done.returncode == 0 and done.stderr == b""
    assert bool(metric_files(data_dir)) is records


# --- the live status the watcher reads (docs/node.md, "The live status") ----------------------


def _start_waiting(mode: str = "", env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``stdin_wait.js`` with the preload, its stdin a pipe this test holds open."""
    command = [NODE or "node", "--require", str(PRELOAD), str(PROGRAMS / "stdin_wait.js"), mode]
    full_env = {**os.environ, c.ENV_SAMPLE_INTERVAL: FAST_INTERVAL, **(env or {})}
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=full_env,
    )  # fmt: skip


def _finish(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    out, err = process.communicate(timeout=20)  # closes its stdin: the program's end
    assert process.returncode == 0, err
    return out, err


def _status_when(path: Path, ready, timeout: float = 10) -> dict:
    """The status at ``path`` once ``ready(status)`` holds (it is rewritten every interval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = json.loads(path.read_text())  # never half-written: it is renamed into place
        except FileNotFoundError:
            status = None
        if status is not None and ready(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"no such status at {path}")


@pytest.mark.parametrize(
    ("mode", "resources"), [("", ["PipeWrap"]), ("timer", ["PipeWrap", "Timeout"])]
)
def test_the_live_status_lists_the_programs_own_resources_and_not_the_preloads(
    data_dir: Path, mode: str, resources: list[str]
) -> None:
    from swarmscope.analyzer.ingest_files import discover

    process = _start_waiting(mode)
    path = data_dir / "watch" / "node" / f"{process.pid}.status"
    try:
        assert process.stdin is not None
        process.stdin.write(b"hello\n")
        process.stdin.flush()
        status = _status_when(
            path, lambda s: s["bytes_read"].get("0") == 6 and s["elu"] is not None
        )
        # the preload's own timers are unref'd, so absent; stdin is a PipeWrap, a timer a Timeout
        assert sorted(status["resources"]) == resources
        assert status["pid"] == process.pid and status["interval_s"] == float(FAST_INTERVAL)
        assert abs(status["time"] - time.time()) < 5 and 0 <= status["elu"] < 1
        assert int(status["start_ns"]) / 1e9 <= status["time"]
        assert not any(p.suffix == ".status" for p in discover([data_dir], []))  # not telemetry
    finally:
        out, err = _finish(process)
    assert out == b"stdin closed\n" and err == b""
    assert not path.exists()  # removed at exit
    assert metric_files(data_dir)


@pytest.mark.parametrize("blocked", ["data dir", "status folder"])
def test_a_status_that_cannot_be_written_costs_at_most_one_stderr_line(
    data_dir: Path, blocked: str
) -> None:
    data_dir.mkdir(parents=True)
    blocker = data_dir / ("a-file" if blocked == "data dir" else "watch")
    blocker.write_text("not a directory\n")  # mkdir below a file fails even for root
    env = {c.ENV_DATA_DIR: str(blocker / "data")} if blocked == "data dir" else None
    process = _start_waiting(env=env)
    time.sleep(5 * float(FAST_INTERVAL))  # several exports, each with its status
    out, err = _finish(process)
    assert out == b"stdin closed\n"
    lines = err.decode().splitlines()
    if blocked == "data dir":  # the metrics' one line, nothing more for the status
        assert len(lines) <= 1 and all(line.startswith("swarmscope: ") for line in lines), lines
    else:  # the metrics are written; the status is given up silently
        assert lines == [] and metric_files(data_dir)
