"""In-process agents graded on sessions built in memory: a leak names the agent that keeps the
memory, and the look-alikes - drift the process gives back, frees missed in small steps beside
a leaker, a neighbour of a much larger leak, noise - name nobody; runs open at shutdown are a
cleanup finding; the agents are listed under the process they run in."""

from __future__ import annotations

import numpy as np
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.grading.session import grade_session
from swarmscope.analyzer.inproc_data import InprocAgent
from swarmscope.analyzer.results import Verdict
from test_grading_session import NS, T0, make_session

HOST_PID = 2000  # worker-0 of make_session(): the process agent the in-process agents run in
BLOCK = "{block}"


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def process_of(specs: dict[str, dict], runs: int = 30, seed: int = 0,
               base: float = 400_000.0) -> list[InprocAgent]:
    """In-process agents of one process, each spec: period (s between runs), leak (blocks
    truly kept per run), capture (share of it the ledger saw), bias (blocks per run charged
    although the process gives them back), noise (per-run standard deviation). The process's
    heap is its base plus every agent's true leak so far plus collection noise."""
    rng = np.random.default_rng(seed)
    events = []  # (time s, agent name)
    for name, spec in specs.items():
        period = spec.get("period", 0.05)
        events += [(1.0 + period * (k + 1), name) for k in range(runs)]
    events.sort()
    kept = dict.fromkeys(specs, 0.0)
    measured = dict.fromkeys(specs, 0.0)
    rows: dict[str, list[tuple[int, float, float]]] = {name: [] for name in specs}
    for t, name in events:
        spec = specs[name]
        kept[name] += spec.get("leak", 0.0)
        measured[name] += (spec.get("leak", 0.0) * spec.get("capture", 1.0)
                           + spec.get("bias", 0.0) + rng.normal(0, spec.get("noise", 300.0)))
        heap = base + sum(kept.values()) + rng.normal(0, 3_000)
        rows[name].append((T0 + int(t * NS), measured[name], heap))
    agents = []
    for name, spec in specs.items():
        ends = np.array([r[0] for r in rows[name]], dtype=np.int64)
        agents.append(InprocAgent(
            agent_id=C.inproc_agent_id(name, HOST_PID), name=name, pid=HOST_PID, unit=BLOCK,
            start_ns=ends - int(0.01 * NS), end_ns=ends, mem_ns=ends,
            retained=np.array([r[1] for r in rows[name]]),
            process_heap=np.array([r[2] for r in rows[name]]), run_cpu_s=spec.get("cpu", 0.1),
            open_at_end=spec.get("open", 0), threads_at_end=spec.get("threads", 0)))
    return agents


def graded(cfg, agents: list[InprocAgent]):
    data = make_session()
    data.inproc = agents
    return grade_session(data, cfg)


def inproc_leaks(g) -> list[str]:
    return [f.agent_name for f in g.dimensions["memory"].findings
            if f.kind == Verdict.MEMORY_INPROC_LEAK]


def test_inproc_leak_names_the_leaking_agent_only(cfg) -> None:
    g = graded(cfg, process_of({"leaky": {"leak": 20_000}, "burner": {"cpu": 1.5},
                                "tidy": {"bias": 300}}))
    assert inproc_leaks(g) == ["leaky"]
    assert g.dimensions["memory"].score <= cfg.critical_cap
    (leak,) = [x for x in g.dimensions["memory"].leaks if x.agent_name == "leaky"]
    assert leak.pid == HOST_PID and leak.metric == C.AGENT_MEMORY_RETAINED


def test_inproc_leak_seen_only_in_part_by_thread_attribution_is_still_named(cfg) -> None:
    # threads: steps interrupted by other threads are not counted, so only part is seen
    g = graded(cfg, process_of({"leaky": {"leak": 20_000, "capture": 0.3},
                                "tidy": {"bias": 200, "period": 0.08}}))
    assert inproc_leaks(g) == ["leaky"]


def test_drift_the_process_gives_back_is_no_leak(cfg) -> None:
    # results handed to the caller and garbage collected in other steps: the agent's series
    # grows, the process's heap does not
    g = graded(cfg, process_of({"tidy": {"bias": 5_000}, "other": {"bias": 4_000}}))
    assert inproc_leaks(g) == []
    assert any("does not grow with it" in f.text for f in g.dimensions["memory"].findings)


def test_frees_missed_in_small_steps_beside_a_leaker_are_no_leak(cfg) -> None:
    # measured look-alike (tests/sdk/record): a well-behaved agent that frees its garbage in
    # many tiny steps keeps ~1 500 blocks per run on paper while a leaker grows the heap
    g = graded(cfg, process_of({"leaky": {"leak": 20_000}, "tidy": {"bias": 1_500}}))
    assert inproc_leaks(g) == ["leaky"]


def test_a_neighbour_of_a_much_larger_leak_is_not_blamed(cfg) -> None:
    g = graded(cfg, process_of({"leaky": {"leak": 200_000}, "tidy": {"bias": 3_000}}))
    assert inproc_leaks(g) == ["leaky"]


def test_noisy_flat_inproc_memory_is_no_leak(cfg) -> None:
    g = graded(cfg, process_of({"a": {"noise": 20_000}, "b": {"noise": 20_000}}, seed=3))
    assert inproc_leaks(g) == []


def test_runs_open_at_shutdown_are_a_cleanup_finding(cfg) -> None:
    g = graded(cfg, process_of({"stuck": {"open": 2}, "fine": {}}))
    (f,) = [f for f in g.dimensions["cleanup"].findings
            if f.kind == Verdict.CLEANUP_UNFINISHED_RUNS]
    assert f.agent_name == "stuck" and "2 run(s) never finished" in f.text


def test_agents_whose_runs_all_finished_are_no_cleanup_finding(cfg) -> None:
    g = graded(cfg, process_of({"fine": {"threads": 1}, "other": {}}))
    kinds = {f.kind for f in g.dimensions["cleanup"].findings}
    assert Verdict.CLEANUP_UNFINISHED_RUNS not in kinds
    listed = [f.text for f in g.dimensions["cleanup"].findings if "still alive" in f.text]
    assert listed == [f"Thread agents still alive at shutdown: fine (pid {HOST_PID}, 1 "
                      "thread(s))."]


def test_inproc_agents_are_listed_under_their_process(cfg) -> None:
    g = graded(cfg, process_of({"leaky": {"leak": 20_000, "cpu": 0.2},
                                "burner": {"cpu": 1.5}}))
    rows = {a.name: a for a in g.agents if a.kind == "inproc"}
    assert set(rows) == {"leaky", "burner"}
    assert rows["burner"].started_by == "worker-0" and rows["burner"].pid == HOST_PID
    assert rows["burner"].cpu_seconds > rows["leaky"].cpu_seconds
    assert rows["leaky"].runs == 30 and rows["leaky"].retained_unit == BLOCK
    assert {a.kind for a in g.agents} == {"process", "inproc"}
    assert g.configuration["inproc_agents"] == 2
