"""In-process agents of real frameworks, offline, as a user runs them: pydantic-ai (TestModel)
and the OpenAI Agents SDK (a fake model, OpenInference instrumentation) under
opentelemetry-instrument, and with swarmscope.instrument(); in asyncio and in threads; and a
process agent that runs in-process agents. Each program is a subprocess writing the embedded
files, then ingested and graded as `swarmscope report` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from swarmscope import conventions as C
from swarmscope.analyzer import api, db
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.results import SessionGrade, Verdict

PROGRAMS = Path(__file__).with_name("programs")
VENV_BIN = Path(sys.executable).parent
# About half of an asyncio agent's runs are told apart, the rest left out whole (docs/inproc.md,
# "Measured limits"); a leak verdict needs 11 counted runs (warm-up 25 %, 8 samples), which
# 24 runs gave only just, and often not on a busy machine.
RUNS = 48
BURN_S = 0.05  # the burner's tool, per run
NAMES = {"leaky", "burner", "tidy"}


@dataclass
class Swarm:
    data_dir: Path
    pid: int
    work_cpu_s: float
    grade: SessionGrade


def run_swarm(tmp_path_factory: pytest.TempPathFactory, program: str, *args: str,
              auto: bool = True) -> Swarm:
    data_dir = tmp_path_factory.mktemp(program.split(".")[0]) / "data"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "SWARMSCOPE_", "OPENAI_"))
           and k not in ("TRACEPARENT", "TRACESTATE", "BAGGAGE")}
    env.update(SWARMSCOPE_DATA_DIR=str(data_dir), SWARM_RUNS=str(RUNS),
               OTEL_PYTHON_CONFIGURATOR="swarmscope")
    command = [sys.executable, str(PROGRAMS / program), *args]
    if auto:
        command = [str(VENV_BIN / "opentelemetry-instrument"), *command]
    else:
        command.append("--instrument")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return Swarm(data_dir, out["pid"], out["work_cpu_s"], api.grade(None, data_dir))


def verdicts(g: SessionGrade) -> list[tuple[str, str | None]]:
    return [(str(f.kind), f.agent_name) for d in g.dimensions.values() for f in d.findings
            if f.kind is not None]


def inproc_rows(g: SessionGrade) -> dict:
    return {a.name: a for a in g.agents if a.kind == C.AgentKind.INPROC}


def check_listed(swarm: Swarm) -> None:
    """Each agent in the agents view, the report's agent table and the JSON agents list."""
    con = db.connect(swarm.data_dir, read_only=True)
    try:
        rows = con.execute("SELECT agent_name, agent_id, pid, task_count FROM agents "
                           "WHERE kind = 'inproc'").fetchall()
    finally:
        con.close()
    assert {r[0] for r in rows} == NAMES
    for name, agent_id, pid, tasks in rows:
        assert agent_id == C.inproc_agent_id(name, swarm.pid) and pid == swarm.pid
        assert tasks == RUNS
    markdown = api.render(swarm.grade, "md")
    for name in NAMES:
        assert f"| {name} | {C.inproc_agent_id(name, swarm.pid)} |" in markdown
    listed = json.loads(api.render(swarm.grade, "json"))["agents"]
    assert {a["name"] for a in listed if a["kind"] == "inproc"} == NAMES


def counted_runs(swarm: Swarm, name: str) -> int:
    """Runs of agent ``name`` whose memory counted (docs/inproc.md: a run is counted whole
    or left out whole)."""
    con = db.connect(swarm.data_dir, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM inproc_runs WHERE agent_name = ? "
                           "AND memory_counted", [name]).fetchone()[0]
    finally:
        con.close()


def measurable(swarm: Swarm, name: str) -> bool:
    """Enough counted runs for a leak verdict: the series' minimum after its warm-up."""
    leaks, counted = load_config().leaks, counted_runs(swarm, name)
    return counted - int(counted * leaks["warmup_fraction"]) >= leaks["min_samples"]


def check_attribution(swarm: Swarm, threads: bool = False) -> None:
    """The leak names leaky, the CPU is burner's, tidy gets no verdict, the CPU adds up. In
    threads under CPU contention most of leaky's runs can be left out (another thread ran
    inside them); then no leak verdict is possible, and none may be given to anyone else."""
    leaks = [who for kind, who in verdicts(swarm.grade) if kind == Verdict.MEMORY_INPROC_LEAK]
    if threads and not measurable(swarm, "leaky"):
        assert leaks == []
    else:
        assert measurable(swarm, "leaky"), "asyncio agents' runs are told apart"
        assert leaks == ["leaky"]
    assert not [v for v in verdicts(swarm.grade) if v[1] in ("tidy", "burner")]
    rows = inproc_rows(swarm.grade)
    cpu = {name: rows[name].cpu_seconds for name in NAMES}
    assert cpu["burner"] >= 0.8 * RUNS * BURN_S
    # leaky's own steps include the collections its growing heap triggers: less, not little
    assert cpu["burner"] >= 1.5 * max(cpu["leaky"], cpu["tidy"])
    total = sum(cpu.values())
    assert total <= swarm.work_cpu_s + 0.02  # never more than the process used
    assert total >= 0.6 * swarm.work_cpu_s  # and most of it: the agents were the only work


@pytest.fixture(scope="module")
def pydantic_asyncio_auto(tmp_path_factory: pytest.TempPathFactory) -> Swarm:
    return run_swarm(tmp_path_factory, "pydantic_swarm.py", "asyncio")


@pytest.fixture(scope="module")
def pydantic_threads_instrument(tmp_path_factory: pytest.TempPathFactory) -> Swarm:
    return run_swarm(tmp_path_factory, "pydantic_swarm.py", "threads", auto=False)


@pytest.fixture(scope="module")
def openai_agents_auto(tmp_path_factory: pytest.TempPathFactory) -> Swarm:
    return run_swarm(tmp_path_factory, "openai_agents_swarm.py")


def test_pydantic_asyncio_agents_are_listed(pydantic_asyncio_auto: Swarm) -> None:
    check_listed(pydantic_asyncio_auto)


def test_pydantic_asyncio_leak_and_cpu_go_to_the_right_agents(
        pydantic_asyncio_auto: Swarm) -> None:
    check_attribution(pydantic_asyncio_auto)


def test_pydantic_threads_agents_are_listed(pydantic_threads_instrument: Swarm) -> None:
    check_listed(pydantic_threads_instrument)


def test_pydantic_threads_leak_and_cpu_go_to_the_right_agents(
        pydantic_threads_instrument: Swarm) -> None:
    check_attribution(pydantic_threads_instrument, threads=True)


@pytest.mark.parametrize(("mode", "auto"), [("asyncio", False), ("threads", True)])
def test_pydantic_the_other_way_round(tmp_path_factory: pytest.TempPathFactory, mode: str,
                                      auto: bool) -> None:
    swarm = run_swarm(tmp_path_factory, "pydantic_swarm.py", mode, auto=auto)
    check_listed(swarm)
    check_attribution(swarm, threads=mode == "threads")


def test_openai_agents_through_openinference_are_listed(openai_agents_auto: Swarm) -> None:
    check_listed(openai_agents_auto)


def test_openai_agents_leak_and_cpu_go_to_the_right_agents(openai_agents_auto: Swarm) -> None:
    check_attribution(openai_agents_auto)


def test_a_process_agent_and_its_inproc_agents_are_in_one_report(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    swarm = run_swarm(tmp_path_factory, "process_host.py")
    (host,) = [a for a in swarm.grade.agents if a.kind == C.AgentKind.PROCESS]
    assert host.pid == swarm.pid  # the child the host started, which ran the framework agents
    rows = inproc_rows(swarm.grade)
    assert set(rows) == NAMES
    assert {(a.pid, a.started_by) for a in rows.values()} == {(host.pid, host.name)}
    check_attribution(swarm)
