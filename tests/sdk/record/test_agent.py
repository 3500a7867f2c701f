"""Lifecycle spans from real processes, read back from the real files the sdk wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import swarmscope
from otlp_files import (
    SPAN_KIND_INTERNAL,
    STATUS_ERROR,
    by_name,
    load_spans,
    metric_points,
    one,
    sdk_files,
)
from swarmscope import conventions as c

PY = sys.executable
SLEEPER = [PY, "-c", "import time; time.sleep(60)"]
# Ignores SIGTERM, and says so only once the handler is in place (no race with terminate).
STUBBORN = [
    PY, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)",
]  # fmt: skip


@pytest.fixture
def tel(data_dir: Path):
    telemetry = swarmscope.init(sample_interval=0.2, topology="mesh", strategy="balanced")
    yield telemetry
    swarmscope.shutdown()


def _create(found, agent):
    return one(found, c.span_name(c.Operation.CREATE_AGENT, agent.name))


def test_spawn_task_terminate_spans(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("coder", SLEEPER)
    assert agent.pid and agent.popen is not None
    with agent.task("plan", task_id="t-1"):
        pass
    with pytest.raises(ValueError):
        with agent.task("build"):
            raise ValueError("compiler said no")
    ending = agent.terminate(timeout=5)
    assert ending.reason == c.TerminationReason.GRACEFUL
    assert agent.terminate() is ending  # idempotent: no second terminate span
    swarmscope.shutdown()

    found = load_spans(data_dir)
    session_span = one(found, c.SPAN_SESSION)
    create = _create(found, agent)
    tasks = by_name(found, c.span_name(c.Operation.INVOKE_AGENT, "coder"))
    terminate = one(found, c.span_name(c.Operation.TERMINATE_AGENT, "coder"))

    assert create.kind == SPAN_KIND_INTERNAL
    assert create.attrs[c.GEN_AI_OPERATION_NAME] == "create_agent"
    assert create.attrs[c.AGENT_INSTANCE_ID] == agent.id
    assert create.attrs[c.GEN_AI_AGENT_NAME] == "coder"
    assert create.attrs[c.PROCESS_PID] == agent.pid
    assert create.attrs[c.PROCESS_PARENT_PID] == os.getpid()
    assert create.parent_id == session_span.span_id

    ok = next(t for t in tasks if t.attrs[c.TASK_NAME] == "plan")
    failed = next(t for t in tasks if t.attrs[c.TASK_NAME] == "build")
    assert ok.attrs[c.TASK_ID] == "t-1" and ok.status_code != STATUS_ERROR
    assert c.ERROR_TYPE not in ok.attrs
    assert failed.attrs[c.ERROR_TYPE] == "ValueError"
    assert failed.status_code == STATUS_ERROR
    assert [name for name, _ in failed.events] == ["exception"]
    for task in tasks:
        assert task.parent_id == create.span_id
        assert task.attrs[c.GEN_AI_OPERATION_NAME] == "invoke_agent"
        assert task.attrs[c.AGENT_INSTANCE_ID] == agent.id

    assert terminate.parent_id == create.span_id
    assert terminate.attrs[c.PROCESS_PID] == agent.pid
    assert terminate.attrs[c.TERMINATION_REASON] == "graceful"
    assert terminate.attrs[c.PROCESS_EXIT_CODE] == -signal.SIGTERM

    assert len({s.trace_id for s in found}) == 1  # one session, one trace
    assert {s.resource[c.SESSION_ID] for s in found} == {tel.session_id}
    assert session_span.resource[c.SWARM_TOPOLOGY] == "mesh"


def test_endings_killed_crashed_signalled(tel, data_dir: Path) -> None:
    stubborn = swarmscope.spawn_agent("stubborn", STUBBORN, stdout=subprocess.PIPE, text=True)
    assert stubborn.popen.stdout.readline().strip() == "ready"
    crasher = swarmscope.spawn_agent("crasher", [PY, "-c", "import sys; sys.exit(3)"])
    victim = swarmscope.spawn_agent("victim", SLEEPER)

    killed = stubborn.terminate(timeout=0.5)
    assert killed == swarmscope.Termination(-9, c.TerminationReason.TIMEOUT_KILLED, 9)
    crasher.popen.wait(30)
    crashed = crasher.record_exit()
    assert (crashed.exit_code, crashed.reason) == (3, c.TerminationReason.CRASHED)
    os.kill(victim.pid, signal.SIGKILL)  # somebody else's signal
    victim.popen.wait(30)
    signalled = victim.terminate(timeout=1)
    assert (signalled.reason, signalled.signal) == (c.TerminationReason.SIGNAL, 9)
    stubborn.popen.stdout.close()
    swarmscope.shutdown()

    found = load_spans(data_dir)
    ends = {
        name: one(found, c.span_name(c.Operation.TERMINATE_AGENT, name)).attrs
        for name in ("stubborn", "crasher", "victim")
    }
    assert ends["stubborn"][c.TERMINATION_REASON] == "timeout_killed"
    assert ends["stubborn"][c.PROCESS_EXIT_CODE] == -9
    assert ends["stubborn"][c.EXIT_SIGNAL] == 9
    assert ends["crasher"][c.TERMINATION_REASON] == "crashed"
    assert ends["crasher"][c.PROCESS_EXIT_CODE] == 3
    assert ends["victim"][c.TERMINATION_REASON] == "signal"
    assert ends["victim"][c.EXIT_SIGNAL] == 9
    crashed_span = one(found, c.span_name(c.Operation.TERMINATE_AGENT, "crasher"))
    assert crashed_span.status_code == STATUS_ERROR


CHILD = textwrap.dedent(
    """
    import os, swarmscope
    swarmscope.init()
    agent = swarmscope.current_agent()
    print(agent.id, os.environ["SWARMSCOPE_MONITORED_BY"], flush=True)
    with swarmscope.task("child-work"):
        with swarmscope.task("nested"):
            pass
    """
)


def test_child_process_inherits_session_and_trace(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent("child", [PY, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    out, _ = agent.popen.communicate(timeout=60)
    assert agent.record_exit().reason == c.TerminationReason.GRACEFUL
    swarmscope.shutdown()

    child_agent_id, monitored_by = out.split()
    assert child_agent_id == agent.id
    assert monitored_by == str(os.getpid())
    found = load_spans(data_dir)
    create = _create(found, agent)
    work = next(s for s in found if s.attrs.get(c.TASK_NAME) == "child-work")
    assert work.name == c.span_name(c.Operation.INVOKE_AGENT, "child")
    nested = next(s for s in found if s.attrs.get(c.TASK_NAME) == "nested")
    assert work.file != create.file  # written by the child, into its own file
    assert str(agent.pid) in work.file.name
    assert work.resource[c.SESSION_ID] == tel.session_id
    assert (work.trace_id, work.parent_id) == (create.trace_id, create.span_id)
    assert nested.parent_id == work.span_id
    assert work.attrs[c.AGENT_INSTANCE_ID] == agent.id


def test_thread_agent_and_session_tasks(tel, data_dir: Path) -> None:
    helper = swarmscope.spawn_agent("helper", kind="thread")
    assert helper.pid is None and helper.kind == c.AgentKind.THREAD

    @swarmscope.task
    def outside_any_agent() -> int:
        return 7

    assert outside_any_agent() == 7
    with helper.task("think"):
        assert swarmscope.current_agent() is helper
    assert helper.terminate().reason == c.TerminationReason.GRACEFUL
    swarmscope.shutdown()

    found = load_spans(data_dir)
    create = _create(found, helper)
    assert create.attrs[c.AGENT_KIND] == "thread" and c.PROCESS_PID not in create.attrs
    think = one(found, c.span_name(c.Operation.INVOKE_AGENT, "helper"))
    assert think.parent_id == create.span_id
    session_task = next(
        s for s in found if s.attrs.get(c.TASK_NAME, "").endswith("outside_any_agent")
    )
    assert session_task.attrs[c.AGENT_INSTANCE_ID] == tel.session_id


def test_register_existing_pid(tel, data_dir: Path) -> None:
    process = subprocess.Popen(SLEEPER)
    try:
        agent = swarmscope.spawn_agent("external", pid=process.pid)
        ending = agent.terminate(timeout=5)
        assert ending.reason == c.TerminationReason.GRACEFUL
        assert ending.exit_code == -signal.SIGTERM  # our child: psutil reaped it and saw why
        assert process.poll() is not None
    finally:
        process.kill()
        process.wait()
    swarmscope.shutdown()
    create = _create(load_spans(data_dir), agent)
    assert create.attrs[c.PROCESS_PID] == process.pid
    assert create.attrs[c.PROCESS_PARENT_PID] == os.getpid()


LEAKY = textwrap.dedent(
    """
    import subprocess, sys
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              start_new_session=True)
    print(orphan.pid, flush=True)
    """
)


def test_shutdown_audits_orphans_and_zombies(tel, data_dir: Path) -> None:
    leaky = swarmscope.spawn_agent("leaky", [PY, "-c", LEAKY], stdout=subprocess.PIPE, text=True)
    orphan_pid = int(leaky.popen.stdout.readline())
    leaky.popen.wait(30)
    leaky.record_exit()
    quitter = swarmscope.spawn_agent("quitter", [PY, "-c", "pass"])  # never reaped: a zombie
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _is_zombie(quitter.pid):
        time.sleep(0.05)
    try:
        swarmscope.shutdown()
    finally:
        os.kill(orphan_pid, signal.SIGKILL)
        quitter.popen.wait()
        leaky.popen.stdout.close()

    audit = one(load_spans(data_dir), c.SPAN_CLEANUP_AUDIT)
    events = {attrs[c.PROCESS_PID]: (name, attrs) for name, attrs in audit.events}
    name, orphan = events[orphan_pid]
    assert name == c.EVENT_ORPHAN
    assert orphan[c.AGENT_INSTANCE_ID] == leaky.id
    assert orphan[c.PROCESS_PARENT_PID] != leaky.pid  # reparented: found by its environment
    assert orphan[c.PROCESS_AGE] >= 0
    name, zombie = events[quitter.pid]
    assert name == c.EVENT_ZOMBIE and zombie[c.AGENT_INSTANCE_ID] == quitter.id
    assert audit.status_code == STATUS_ERROR


def _is_zombie(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_spawn_failure_is_recorded_and_raised(tel, data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        swarmscope.spawn_agent("ghost", ["/nonexistent/agent-binary"])
    swarmscope.shutdown()
    create = one(load_spans(data_dir), c.span_name(c.Operation.CREATE_AGENT, "ghost"))
    assert create.status_code == STATUS_ERROR
    assert create.attrs[c.ERROR_TYPE] == "FileNotFoundError"


QUICK_EXIT = textwrap.dedent(
    """
    import time, swarmscope
    swarmscope.init(sample_interval=30)  # nothing would be exported before the SIGTERM
    with swarmscope.task("last-words"):
        pass
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_sigterm_flushes_before_the_process_dies(tel, data_dir: Path) -> None:
    agent = swarmscope.spawn_agent(
        "quick", [PY, "-c", QUICK_EXIT], stdout=subprocess.PIPE, text=True
    )
    assert agent.popen.stdout.readline().strip() == "ready"
    ending = agent.terminate(timeout=10)
    agent.popen.stdout.close()
    swarmscope.shutdown()
    assert (ending.exit_code, ending.reason) == (-signal.SIGTERM, c.TerminationReason.GRACEFUL)
    last = next(s for s in load_spans(data_dir) if s.attrs.get(c.TASK_NAME) == "last-words")
    assert str(agent.pid) in last.file.name


def test_task_decorates_coroutines_and_serves_concurrent_blocks(tel, data_dir: Path) -> None:
    import asyncio

    @swarmscope.task("fetch")
    async def fetch(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    shared = swarmscope.task("shared-block")

    async def in_block(delay: float) -> None:
        with shared:
            await asyncio.sleep(delay)

    async def main() -> None:
        assert await asyncio.gather(fetch(0.02), fetch(0.01)) == [0.02, 0.01]
        await asyncio.gather(in_block(0.02), in_block(0.01))

    asyncio.run(main())
    swarmscope.shutdown()
    found = load_spans(data_dir)
    fetches = [s for s in found if s.attrs.get(c.TASK_NAME) == "fetch"]
    blocks = [s for s in found if s.attrs.get(c.TASK_NAME) == "shared-block"]
    assert len(fetches) == 2 and len(blocks) == 2
    assert all(s.parent_id != other.span_id for s in blocks for other in blocks)


MONITORED_CHILD = textwrap.dedent(
    """
    import gc, sys, swarmscope
    swarmscope.init()
    gc.collect()
    sys.stdin.readline()  # stay alive until the parent has sampled us
    """
)


def test_parent_samples_its_agents_and_children_only_report_their_runtime(
    data_dir: Path,
) -> None:
    swarmscope.init(sample_interval=0.1)
    agent = swarmscope.spawn_agent(
        "sampled", [PY, "-c", MONITORED_CHILD], stdin=subprocess.PIPE, text=True
    )
    session = swarmscope.session()
    assert session.monitor is not None and agent.pid in session.monitor.watched()
    time.sleep(0.8)
    agent.popen.communicate("go\n", timeout=30)
    agent.record_exit()
    assert agent.pid not in session.monitor.watched()  # unwatched once it ended
    swarmscope.shutdown()

    (parent_file,) = [p for p in sdk_files(data_dir, "metrics") if f".{os.getpid()}." in p.name]
    (child_file,) = [p for p in sdk_files(data_dir, "metrics") if f".{agent.pid}." in p.name]
    parent_rss = metric_points(parent_file, c.PROCESS_MEMORY_USAGE)
    assert {c.PROCESS_PID: agent.pid, c.AGENT_INSTANCE_ID: agent.id}.items() <= next(
        p for p in parent_rss if p.get(c.PROCESS_PID) == agent.pid
    ).items()
    assert metric_points(child_file, c.PROCESS_MEMORY_USAGE) == []  # the parent samples it
    assert metric_points(child_file, c.SYSTEM_MEMORY_USAGE) == []
    assert metric_points(child_file, c.GC_COLLECTIONS)  # its own interpreter it reports
