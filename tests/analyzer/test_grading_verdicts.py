"""Verdicts on sessions built in memory that test_grading_session.py does not cover: resources
held after termination, agents never terminated - and that every finding that flags names
its verdict kind (docs/grading.md's table lists them all)."""

from __future__ import annotations

import numpy as np
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.grading.session import grade_session
from swarmscope.analyzer.results import Verdict
from test_grading_session import MIB, NS, T0, make_session


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def _kinds(g) -> set[str]:
    return {str(f.kind) for d in g.dimensions.values() for f in d.findings if f.kind}


def _holding_on(extra_rss: float = 100 * MIB, extra_fds: float = 10,
                extra_threads: float = 3):
    """The orchestrator (pid 1000) takes resources when its agents start and keeps them."""
    data = make_session()
    for metric, extra in ((C.PROCESS_MEMORY_USAGE, extra_rss), (C.PROCESS_FD_COUNT, extra_fds),
                          (C.PROCESS_THREAD_COUNT, extra_threads)):
        s = data.metrics[metric]
        s.value[(s.pid == 1000) & (s.ts > T0 + int(1.0 * NS))] += extra
    return data


def test_resources_held_after_termination_flag_release_verdicts(cfg) -> None:
    g = grade_session(_holding_on(), cfg)
    assert {Verdict.MEMORY_UNRELEASED, Verdict.PROCESSES_FDS_UNRELEASED,
            Verdict.CLEANUP_FD_EXCESS, Verdict.CLEANUP_THREAD_EXCESS} <= _kinds(g)


def test_resources_released_after_termination_are_no_verdict(cfg) -> None:
    # the agents' own resources go away with them; the clean session holds nothing after
    g = grade_session(make_session([{"name": "big", "rss_slope": 0}]), cfg)
    assert not {Verdict.MEMORY_UNRELEASED, Verdict.PROCESSES_FDS_UNRELEASED,
                Verdict.CLEANUP_FD_EXCESS, Verdict.CLEANUP_THREAD_EXCESS} & _kinds(g)


def test_agent_never_terminated_is_flagged(cfg) -> None:
    data = make_session()
    data.agents[1].terminate_ns = None
    g = grade_session(data, cfg)
    [f] = [f for f in g.dimensions["cleanup"].findings
           if f.kind == Verdict.CLEANUP_UNTERMINATED]
    assert f.agent_name == "worker-1"


def test_terminated_agents_are_not_unterminated(cfg) -> None:
    assert Verdict.CLEANUP_UNTERMINATED not in _kinds(grade_session(make_session(), cfg))


def _loaded_host(agent_cpu: float) -> object:
    """A session whose host's load average is 5 (2.5 per core) while its three agents each
    use ``agent_cpu`` cores."""
    data = make_session([{"name": f"worker-{i}", "cpu": agent_cpu} for i in range(3)])
    data.metrics[C.SYSTEM_LOAD_1M].value[:] = 5.0
    return data


def test_high_load_flags_cpu_and_low_load_does_not(cfg) -> None:
    assert Verdict.CPU_LOAD in _kinds(grade_session(_loaded_host(agent_cpu=0.9), cfg))
    assert Verdict.CPU_LOAD not in _kinds(grade_session(make_session(), cfg))


def test_load_from_other_work_on_the_host_is_not_the_sessions(cfg) -> None:
    """The same host load, but the session's agents idle: the load belongs to someone else."""
    g = grade_session(_loaded_host(agent_cpu=0.02), cfg)
    cpu = g.dimensions["cpu"]
    assert Verdict.CPU_LOAD not in _kinds(g)
    assert not cpu.flagged and cpu.grade.startswith("A"), [f.text for f in cpu.findings]
    assert any("other work on the host" in f.text for f in cpu.findings)


@pytest.mark.parametrize("specs", [
    [{"name": "leaky", "rss_slope": 5 * MIB}, {"name": "spinner", "cpu": 0.95},
     {"name": "opener", "fd_slope": 6}, {"name": "cycler", "gc_cycles": 2000}],
    None,
])
def test_every_flagging_finding_names_its_verdict(cfg, specs) -> None:
    data = _holding_on() if specs is None else make_session(specs, duration=16.0)
    data.agents[0].terminate_ns = None if specs is None else data.agents[0].terminate_ns
    g = grade_session(data, cfg)
    flagging = [f for d in g.dimensions.values() for f in d.findings if f.severity.flags]
    assert flagging and all(isinstance(f.kind, Verdict) for f in flagging), [
        f.text for f in flagging if f.kind is None]
    assert np.all([f.kind.split(".")[0] in g.dimensions for f in flagging])


def test_uncollectable_objects_flag_gc(cfg) -> None:
    data = make_session()
    s = data.metrics[C.GC_UNCOLLECTABLE_OBJECTS]
    s.value[s.pid == 2000] = 100.0  # per generation
    g = grade_session(data, cfg)
    [f] = [f for f in g.dimensions["gc"].findings if f.kind == Verdict.GC_UNCOLLECTABLE]
    assert f.agent_name == "worker-0"
