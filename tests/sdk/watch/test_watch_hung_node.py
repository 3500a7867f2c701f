"""Hung Node.js workers: the stand-in ``claude --print`` (tests/claude_flow/bin/claude, a Node
program that reads stdin to its end before answering, as the real CLI does) under an
orchestrator that never closes its stdin, versus Node workers that wait politely with their
stdin open: on an HTTP answer, on a timer, on lines fed to them.

Node.js waits in ``epoll_wait``, not in ``read``: these are the event-loop side of the rule.
The runtime-metrics preload is on, as ``swarmscope run`` has it by default: its own timers put
a timeout on every epoll wait and wake the process, and its live status says which resources
are the program's own (docs/watcher.md, "Hung workers"). One test runs the hung worker with the
preload off (``SWARMSCOPE_NODE_PRELOAD=0``), the rule's other path."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from otlp_files import audit_events, by_operation, load_spans
from swarmscope import conventions as c
from watch_helpers import SWARMSCOPE, run

PROGRAMS = Path(__file__).parent / "programs"
CLAUDE = Path(__file__).parents[2] / "claude_flow" / "bin" / "claude"
HUNG_AFTER = 1.0
# each worker waits this long with its stdin open: well past the threshold
HOLD_S = 3.5
ENV = {c.ENV_HUNG_AFTER: str(HUNG_AFTER)}  # the preload on: the default
NO_PRELOAD = {c.ENV_NODE_PRELOAD: "0"}
ORCHESTRATORS = {
    # Node.js passes stdio 'pipe' as a Unix socketpair; Python's subprocess.PIPE is a pipe
    "node": ("socket", lambda hold, feed=0: ["node", str(PROGRAMS / "orchestrator.js"),
                                             str(hold), str(feed)]),
    "python": ("pipe", lambda hold, feed=0: [sys.executable, str(PROGRAMS / "orchestrator.py"),
                                             str(hold)]),
}  # fmt: skip


def _orchestrate(tmp_path: Path, orchestrator: str, worker: list[str], hold: float,
                 feed: float = 0, env: dict[str, str] | None = None):  # fmt: skip
    """``swarmscope run -- ORCHESTRATOR ... -- WORKER``: the run and the worker's pid."""
    command = ORCHESTRATORS[orchestrator][1](hold, feed)
    result = run(tmp_path, *command, "--", *worker, env={**ENV, **(env or {})})
    assert result.returncode == 0, result.stderr
    return result, int(result.stdout.split()[0])


def _hung(data_dir: Path) -> list[dict]:
    return audit_events(load_spans(data_dir), c.EVENT_HUNG)


def _preloaded(data_dir: Path, pid: int) -> bool:
    """Whether the preload recorded ``pid``'s runtime metrics (so it ran in it)."""
    return any(f".{pid}." in path.name for path in (data_dir / "sdk").glob("metrics.*.jsonl"))


def _parent_of(data_dir: Path, pid: int) -> tuple[int, str]:
    """The pid and name of ``pid``'s parent, from their create_agent spans."""
    created = by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
    parent = next(s.attrs[c.PROCESS_PARENT_PID] for s in created if s.pid == pid)
    return parent, next(s.attrs[c.GEN_AI_AGENT_NAME] for s in created if s.pid == parent)


@pytest.mark.parametrize(
    ("orchestrator", "env"),
    [("node", {}), ("python", {}), ("node", NO_PRELOAD)],
    ids=["node", "python", "node-without-preload"],
)
def test_claude_print_on_an_open_stdin_is_hung(
    tmp_path: Path, data_dir: Path, orchestrator: str, env: dict[str, str]
) -> None:
    result, worker = _orchestrate(
        tmp_path, orchestrator, [str(CLAUDE), "--print", "x"], HOLD_S, env=env
    )
    assert _preloaded(data_dir, worker) == (not env)  # each path of the rule, as meant
    (hung,) = _hung(data_dir)
    holder, holder_name = _parent_of(data_dir, worker)
    assert hung[c.PROCESS_PID] == worker
    assert hung[c.GEN_AI_AGENT_NAME] == "claude --print" and hung[c.AGENT_INSTANCE_ID]
    assert hung[c.WAIT_FD] == 0 and hung[c.HOLDER_PID] == holder
    kind, end = ("socket", "other end") if orchestrator == "node" else ("pipe", "write end")
    assert f"stdin {kind} (fd 0)" in hung[c.WAITING_ON]
    assert f"{end} held by pid {holder} ({holder_name})" in hung[c.WAITING_ON]
    assert hung[c.IDLE_SECONDS] >= HUNG_AFTER
    assert f"pid {worker} (claude --print) looks hung" in result.stderr
    assert "Done." in result.stdout  # it answered once its stdin closed at last


@pytest.mark.parametrize("orchestrator", ["node", "python"])
def test_claude_print_with_stdin_closed_answers_and_is_not_hung(
    tmp_path: Path, data_dir: Path, orchestrator: str
) -> None:
    result, _worker = _orchestrate(tmp_path, orchestrator, [str(CLAUDE), "--print", "x"], 0)
    assert "Done." in result.stdout
    assert not _hung(data_dir) and "hung" not in result.stderr


class _SlowAnswer(BaseHTTPRequestHandler):
    delay_s = HOLD_S - 1  # past the threshold, before the orchestrator closes stdin

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A local HTTP server on a free 127.0.0.1 port that answers only after the threshold."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_worker_waiting_on_an_http_answer_is_not_hung(
    tmp_path: Path, data_dir: Path, slow_server: str
) -> None:
    # stdin open and in its event loop too: only the socket tells it from the hung worker
    result, _worker = _orchestrate(
        tmp_path, "node", ["node", str(PROGRAMS / "worker.js"), "http", slow_server], HOLD_S
    )
    assert "worker done" in result.stdout  # the answer came after the threshold
    assert not _hung(data_dir) and "hung" not in result.stderr


@pytest.mark.parametrize("poll_s", [0.2, HUNG_AFTER * 1.5])
def test_worker_polling_a_timer_is_not_hung(tmp_path: Path, data_dir: Path, poll_s: float) -> None:
    # between polls it gains no CPU and reads nothing; the slower one polls less often than
    # the threshold, so only its timer (a Timeout in the preload's status) tells it apart
    poll_ms = str(int(poll_s * 1000))
    result, _worker = _orchestrate(
        tmp_path, "node", ["node", str(PROGRAMS / "worker.js"), "poll", poll_ms], HOLD_S
    )
    assert not _hung(data_dir) and "hung" not in result.stderr


def test_worker_fed_a_line_every_second_is_not_hung(tmp_path: Path, data_dir: Path) -> None:
    # the threshold is above the pause between lines, as it must be for a fed worker
    result, _worker = _orchestrate(
        tmp_path, "node", ["node", str(PROGRAMS / "worker.js"), "lines"], hold=5, feed=1,
        env={c.ENV_HUNG_AFTER: "2"},
    )  # fmt: skip
    assert "worker done" in result.stdout
    assert not _hung(data_dir) and "hung" not in result.stderr


def test_hung_claude_print_in_the_json_report(tmp_path: Path, data_dir: Path) -> None:
    """End to end: ``swarmscope run`` with its default settings (the preload on) but a short
    threshold, then ``swarmscope report --format json``."""
    # held longer than the others: on a busy machine the report must still see it hung
    _result, worker = _orchestrate(tmp_path, "node", [str(CLAUDE), "--print", "x"], 2 * HOLD_S)
    out = tmp_path / "report.json"
    report = subprocess.run(
        [str(SWARMSCOPE), "report", "--format", "json", "-o", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    (hung,) = json.loads(out.read_text())["dimensions"]["cleanup"]["hung"]
    assert hung["pid"] == worker and hung["agent"] == "claude --print"
    assert "stdin socket (fd 0)" in hung["waiting_on"] and "held by pid" in hung["waiting_on"]
    assert hung["idle_seconds"] >= HUNG_AFTER
