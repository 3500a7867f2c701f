"""opentelemetry-instrument on programs that never import swarmscope: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from otlp_files import by_operation, load_spans
from swarmscope import conventions as c

VENV_BIN = Path(sys.executable).parent
INSTRUMENT = VENV_BIN / "opentelemetry-instrument"

MP_PROGRAM = textwrap.dedent(
    """
    import multiprocessing as mp
    import os
    import sys

    from opentelemetry import trace


    def work(code):
        with trace.get_tracer("prog").start_as_current_span("child-work") as span:
            span.set_attribute("child.pid", os.getpid())
        sys.exit(code)


    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        procs = [ctx.Process(target=work, args=(code,), name=f"worker{code}") for code in (0, 3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        print(" ".join(f"{p.pid}:{p.exitcode}" for p in procs))
    """
)

SPAWNERS_PROGRAM = textwrap.dedent(
    """
    import asyncio
    import multiprocessing as mp
    import subprocess
    from concurrent.futures import ProcessPoolExecutor


    def square(x):
        return x * x


    async def child():
        proc = await asyncio.create_subprocess_exec("sh", "-c", "exit 4")
        await proc.wait()
        return proc.pid


    if __name__ == "__main__":
        a = subprocess.Popen(["true"]); a.wait()
        b = subprocess.run("exit 2", shell=True)
        pid = asyncio.run(child())
        with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
            assert list(pool.map(square, range(4))) == [0, 1, 4, 9]
            workers = [p.pid for p in pool._processes.values()]
        print(a.pid, pid, *workers)
    """
)


def _instrumented(
    tmp_path: Path, source: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "prog.py"
    program.write_text(source)
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("OTEL_PYTHON_CONFIGURATOR", "swarmscope")
    result = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(program), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_children_are_agents_in_one_session_and_trace(
    tmp_path: Path, data_dir: Path, method: str
) -> None:
    result = _instrumented(tmp_path, MP_PROGRAM, method)
    expected = dict(item.split(":") for item in result.stdout.split())
    expected = {int(pid): int(code) for pid, code in expected.items()}

    spans = load_spans(data_dir)
    creates = by_operation(spans, c.Operation.CREATE_AGENT)
    terminates = by_operation(spans, c.Operation.TERMINATE_AGENT)
    assert sorted(s.pid for s in creates) == sorted(expected)
    assert sorted(s.pid for s in terminates) == sorted(expected)
    for span in terminates:
        assert span.attrs[c.PROCESS_EXIT_CODE] == expected[span.pid]
        reason = c.TerminationReason.GRACEFUL if expected[span.pid] == 0 else "crashed"
        assert span.attrs[c.TERMINATION_REASON] == reason

    # one session and one trace for the parent and both children
    assert len({s.session_id for s in spans}) == 1
    assert len({s.trace_id for s in spans}) == 1
    # each child's own span hangs under that child's create_agent span, written by the child
    create_by_pid = {s.pid: s for s in creates}
    work = [s for s in spans if s.name == "child-work"]
    assert sorted(s.attrs["child.pid"] for s in work) == sorted(expected)
    for span in work:
        assert span.parent_id == create_by_pid[span.attrs["child.pid"]].span_id
        assert f".{span.attrs['child.pid']}." in span.file.name
    # forked children re-created their exporters: nothing written twice, nothing left behind
    assert len({s.span_id for s in spans}) == len(spans)
    metric_files = [p.name for p in (data_dir / "sdk").glob("metrics.*.jsonl")]
    for pid in expected:  # each child also wrote its own metrics (its GC), to its own file
        assert any(f".{pid}." in name for name in metric_files), metric_files
    audits = [s for s in spans if s.name == c.SPAN_CLEANUP_AUDIT]
    assert all(not s.events for s in audits), [s.events for s in audits]


def test_without_any_configurator_the_instrumentor_initialises_swarmscope(
    tmp_path: Path, data_dir: Path
) -> None:
    # neither the distro's configurator nor swarmscope's runs: the instrumentor alone
    result = _instrumented(tmp_path, MP_PROGRAM, "spawn", env={"OTEL_PYTHON_CONFIGURATOR": "off"})
    pids = {int(item.split(":")[0]) for item in result.stdout.split()}
    spans = load_spans(data_dir)
    assert {s.pid for s in by_operation(spans, c.Operation.TERMINATE_AGENT)} == pids
    assert {s.attrs["child.pid"] for s in spans if s.name == "child-work"} == pids


def test_subprocess_asyncio_and_process_pool_children(tmp_path: Path, data_dir: Path) -> None:
    result = _instrumented(tmp_path, SPAWNERS_PROGRAM)
    popen_pid, asyncio_pid, *workers = (int(x) for x in result.stdout.split())
    spans = load_spans(data_dir)
    created = {s.pid: s for s in by_operation(spans, c.Operation.CREATE_AGENT)}
    ended = {s.pid: s for s in by_operation(spans, c.Operation.TERMINATE_AGENT)}
    assert set(created) == set(ended)
    assert len(created) == 5  # true, sh (shell=True), sh (asyncio), two pool workers
    assert ended[popen_pid].attrs[c.PROCESS_EXIT_CODE] == 0
    assert ended[asyncio_pid].attrs[c.PROCESS_EXIT_CODE] == 4
    codes = sorted(s.attrs[c.PROCESS_EXIT_CODE] for s in ended.values())
    assert codes == [0, 0, 0, 2, 4]
    assert set(workers) <= set(created)
    assert created[popen_pid].attrs[c.PROCESS_PARENT_PID] != popen_pid
    assert c.PROCESS_COMMAND_LINE not in created[popen_pid].attrs  # off by default


def test_agent_pattern_and_redacted_command_lines(tmp_path: Path, data_dir: Path) -> None:
    source = textwrap.dedent(
        """
        import subprocess
        subprocess.run(["echo", "--token=abc123", "hello"], stdout=subprocess.DEVNULL)
        subprocess.run(["true"])
        """
    )
    env = {c.ENV_AGENT_PATTERN: r"^echo\b", c.ENV_RECORD_COMMAND_LINES: "1"}
    _instrumented(tmp_path, source, env=env)
    creates = by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
    assert [s.attrs[c.GEN_AI_AGENT_NAME] for s in creates] == ["echo"]
    line = creates[0].attrs[c.PROCESS_COMMAND_LINE]
    assert "abc123" not in line and "[REDACTED]" in line and "hello" in line


def test_uninstrument_restores_every_patched_attribute(data_dir: Path) -> None:
    import swarmscope
    from swarmscope.record.instrumentation import SwarmscopeInstrumentor
    from swarmscope.record.patches import targets as _targets

    before = [(owner, name, owner.__dict__[name]) for owner, name, _ in _targets()]
    instrumentor = swarmscope.instrument()
    try:
        assert all(owner.__dict__[name] is not orig for owner, name, orig in before)
        assert os.environ[c.ENV_SESSION_ID] == swarmscope.session().id
        proc = subprocess.Popen(
            [sys.executable, "-c", "import os; print(os.environ['TRACEPARENT'])"],
            stdout=subprocess.PIPE,
            text=True,
        )
        traceparent = proc.communicate()[0].strip()
    finally:
        instrumentor.uninstrument()
        swarmscope.shutdown()
    assert all(owner.__dict__[name] is orig for owner, name, orig in before)
    assert c.ENV_SESSION_ID not in os.environ
    assert not SwarmscopeInstrumentor().is_instrumented_by_opentelemetry
    spans = load_spans(data_dir)
    (create,) = by_operation(spans, c.Operation.CREATE_AGENT)
    (terminate,) = by_operation(spans, c.Operation.TERMINATE_AGENT)
    assert create.pid == terminate.pid == proc.pid
    assert traceparent.split("-")[2] == create.span_id


def test_spawn_agent_children_are_not_recorded_twice(data_dir: Path) -> None:
    import swarmscope

    instrumentor = swarmscope.instrument()
    try:
        agent = swarmscope.spawn_agent("coder", ["sleep", "0.05"])
        agent.popen.wait()
        agent.record_exit()
        subprocess.run(["true"], check=True)
    finally:
        instrumentor.uninstrument()
        swarmscope.shutdown()
    creates = by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
    assert sorted(s.attrs[c.GEN_AI_AGENT_NAME] for s in creates) == ["coder", "true"]
