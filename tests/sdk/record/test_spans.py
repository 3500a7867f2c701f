"""Tools, task and tool durations, the instance id attribute and process.exit.time, through the
public API and the real file exporter."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import swarmscope
from otlp_files import (
    by_operation,
    data_points,
    load_spans,
    metrics,
    one,
    read_lines,
    sdk_files,
    value_of,
)
from swarmscope import conventions as c
from swarmscope.record import spans

INTERNAL = 1  # OTLP SpanKind


def _points(data_dir: Path, name: str) -> list[dict[str, Any]]:
    """Every data point of metric ``name`` in the sdk's files (attributes decoded)."""
    documents = [d for path in sdk_files(data_dir, c.SIGNAL_METRICS) for d in read_lines(path)]
    found = []
    for metric in metrics(documents):
        if metric["name"] != name:
            continue
        for point in data_points(metric):
            attrs = {a["key"]: value_of(a["value"]) for a in point.get("attributes", [])}
            found.append({"attrs": attrs, "count": int(point.get("count", 0)),
                          "unit": metric.get("unit")})  # fmt: skip
    return found


@pytest.fixture
def tel(data_dir: Path):
    telemetry = swarmscope.init(sample_interval=0.2, monitor=False)
    yield telemetry
    swarmscope.shutdown()


def test_tools_are_execute_tool_spans_under_their_task(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("researcher", kind="inproc")

    @swarmscope.tool("fetch")
    def fetch() -> str:
        return "page"

    @swarmscope.tool("summarise")
    async def summarise() -> str:
        return "short"

    with agent.task("research"):
        with agent.tool("search"):
            pass
        assert fetch() == "page"
        with pytest.raises(TimeoutError):
            with swarmscope.tool("browse"):
                raise TimeoutError("slow site")
    with swarmscope.task("outside"):
        assert asyncio.run(summarise()) == "short"
    swarmscope.shutdown()

    found = load_spans(data_dir)
    (task,) = [s for s in by_operation(found, c.Operation.INVOKE_AGENT)
               if s.attrs.get(c.TASK_NAME) == "research"]  # fmt: skip
    tools = {s.attrs[c.GEN_AI_TOOL_NAME]: s for s in by_operation(found, c.Operation.EXECUTE_TOOL)}
    assert set(tools) == {"search", "fetch", "browse", "summarise"}
    for name in ("search", "fetch", "browse"):
        tool = tools[name]
        assert tool.name == c.span_name(c.Operation.EXECUTE_TOOL, name)
        assert tool.kind == INTERNAL and tool.parent_id == task.span_id
        assert tool.attrs[c.GEN_AI_AGENT_NAME] == "researcher"
        assert tool.attrs[c.AGENT_INSTANCE_ID] == agent.id
    assert tools["browse"].attrs[c.ERROR_TYPE] == "TimeoutError"
    assert tools["browse"].status_code == 2
    assert c.ERROR_TYPE not in tools["search"].attrs


def test_task_and_tool_durations_are_histograms(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("writer", kind="inproc")
    with agent.task("draft"):
        with agent.tool("spellcheck"):
            pass
    with pytest.raises(KeyError):
        with agent.task("publish"):
            raise KeyError("no channel")
    swarmscope.shutdown()

    tasks = _points(data_dir, c.GEN_AI_INVOKE_AGENT_DURATION)
    by_error = {p["attrs"].get(c.ERROR_TYPE): p for p in tasks}
    assert set(by_error) == {None, "KeyError"}
    for point in tasks:
        assert point["unit"] == c.UNITS[c.GEN_AI_INVOKE_AGENT_DURATION] == "s"
        assert point["attrs"][c.GEN_AI_OPERATION_NAME] == c.Operation.INVOKE_AGENT
        assert point["attrs"][c.GEN_AI_AGENT_NAME] == "writer"
        assert point["count"] == 1
    (tool,) = _points(data_dir, c.GEN_AI_EXECUTE_TOOL_DURATION)
    assert tool["attrs"][c.GEN_AI_TOOL_NAME] == "spellcheck" and tool["count"] == 1
    assert tool["unit"] == "s"


def test_our_spans_carry_the_instance_id_not_gen_ai_agent_id(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("sleeper", [sys.executable, "-c", "import time; time.sleep(30)"])
    with agent.task("nap"):
        with agent.tool("pillow"):
            pass
    agent.terminate(timeout=5)
    swarmscope.shutdown()

    found = load_spans(data_dir)
    ours = [s for s in found if c.GEN_AI_OPERATION_NAME in s.attrs]
    assert {s.attrs[c.GEN_AI_OPERATION_NAME] for s in ours} == set(c.Operation)
    for span in ours:
        assert span.attrs[c.AGENT_INSTANCE_ID] == agent.id, span.name
        assert c.GEN_AI_AGENT_ID not in span.attrs, span.name
    assert agent.id.startswith("sleeper-") and len(agent.id) == len("sleeper-") + 8


def test_exit_time_is_recorded_when_the_exit_was_observed(tel, data_dir: Path) -> None:
    before = datetime.now().astimezone()
    process = swarmscope.spawn_agent("short", [sys.executable, "-c", "pass"])
    process.popen.wait()
    process.record_exit()
    thread = swarmscope.spawn_agent("thread", kind="thread")
    thread.terminate()
    swarmscope.shutdown()

    found = load_spans(data_dir)
    ended = one(found, c.span_name(c.Operation.TERMINATE_AGENT, "short"))
    exit_time = datetime.fromisoformat(ended.attrs[c.PROCESS_EXIT_TIME])
    assert before <= exit_time <= datetime.now().astimezone()
    # a thread has no process whose exit could be observed
    silent = one(found, c.span_name(c.Operation.TERMINATE_AGENT, "thread"))
    assert c.PROCESS_EXIT_TIME not in silent.attrs


def test_one_exit_classification_for_the_sdk_and_the_watcher() -> None:
    reason = c.TerminationReason
    assert spans.classify_exit(0).reason == reason.GRACEFUL
    assert spans.classify_exit(3).reason == reason.CRASHED
    assert spans.classify_exit(-9) == spans.Termination(-9, reason.SIGNAL, 9)
    assert spans.classify_exit(-15, sent_signal=15).reason == reason.GRACEFUL
    assert spans.classify_exit(None, killed_after_timeout=True).reason == reason.TIMEOUT_KILLED
    assert spans.classify_exit(None).reason == reason.GRACEFUL  # the SDK: declared ended
    assert spans.classify_exit(None, unknown=None).reason is None  # the watcher: unknown


def test_child_environment_is_built_once_for_every_starter(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("env-probe", kind="inproc")
    env = swarmscope.child_env(agent)
    assert env[c.ENV_SESSION_ID] == tel.session_id
    assert env[c.ENV_AGENT_ID] == agent.id and env[c.ENV_AGENT_NAME] == "env-probe"
    assert env[c.ENV_DATA_DIR] == str(data_dir.absolute())
    assert env[c.ENV_TRACEPARENT].split("-")[2] == format(agent.span_context.span_id, "016x")
    probe = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['SWARMSCOPE_AGENT_ID'])"],
        env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == agent.id
