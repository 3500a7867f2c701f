"""Grading sessions built in memory (grading.session over every dimension): each dimension
reacts to its own problem only, and verdict thresholds come from the control points."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.grading.session import grade_session
from swarmscope.analyzer.results import Severity
from swarmscope.analyzer.session_data import NS, AgentRecord, LeftoverRecord, Samples, SessionData

T0 = 1_700_000_000 * NS
MIB = 2**20


class Builder:
    """A session's points, added metric by metric."""

    def __init__(self, session_id: str = "sess-1") -> None:
        self.data = SessionData(session_id, facts={"cpu_count": 2, "memory_total": 16 * 2**30,
                                                   "host_name": "box", "topology": "mesh",
                                                   "audit_spans": 1})
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, metric: str, t_s: float, value: float, pid: int, agent: str | None = None,
            key: str | None = None) -> None:
        self.rows.setdefault(metric, []).append((T0 + int(t_s * NS), value, pid, agent, key))

    def build(self) -> SessionData:
        for metric, rows in self.rows.items():
            rows.sort(key=lambda r: r[0])
            ts, value, pid, agent, key = zip(*rows, strict=True)
            self.data.metrics[metric] = Samples(
                np.array(ts, dtype=np.int64), np.array(value, dtype=float),
                np.array(pid, dtype=np.int64), np.array(agent, dtype=object),
                np.array(key, dtype=object))
        return self.data


def make_session(specs: list[dict[str, Any]] | None = None, duration: float = 12.0,
                 interval: float = 0.25, seed: int = 0, settle_samples: bool = True,
                 gc: bool = True) -> SessionData:
    """A swarm of agents; each spec may set rss_slope, rss_noise, fd_slope, cpu, gc_cycles."""
    specs = specs if specs is not None else [{"name": f"worker-{i}"} for i in range(3)]
    rng = np.random.default_rng(seed)
    b = Builder()
    end_t = duration if settle_samples else duration - 2.5
    for i, spec in enumerate(specs):
        aid, pid = f"agent-{i}", 2000 + i
        spawn, term = 1.0 + 0.1 * i, duration - 3.0 + 0.1 * i
        b.data.agents.append(AgentRecord(aid, spec["name"], pid, "process",
                                         T0 + int(spawn * NS), T0 + int(term * NS), 0,
                                         "graceful"))
        n = 0
        for t in np.arange(spawn + interval, term, interval):
            age = t - spawn
            rss = 40 * MIB + spec.get("rss_slope", 0) * age + rng.normal(0, spec.get(
                "rss_noise", 0.2 * MIB))
            b.add(C.PROCESS_MEMORY_USAGE, t, rss, pid, aid)
            b.add(C.PROCESS_FD_COUNT, t, 8 + int(spec.get("fd_slope", 0) * age), pid, aid)
            b.add(C.PROCESS_THREAD_COUNT, t, 2, pid, aid)
            b.add(C.PROCESS_CPU_UTILIZATION, t, spec.get("cpu", 0.02) / 2, pid, aid)
            if gc:
                n += 1
                cycles = spec.get("gc_cycles", 5)
                for gen, every in ((0, 1), (1, 10), (2, 100)):
                    b.add(C.GC_COLLECTIONS, t, n * cycles * interval / every, pid, None, str(gen))
                    b.add(C.GC_UNCOLLECTABLE_OBJECTS, t, 0, pid, None, str(gen))
                b.add(C.GC_COLLECTED_OBJECTS, t, n * cycles * 200 * interval, pid, None, "0")
                b.add(C.GC_PAUSE_DURATION, t, n * cycles * 0.0002 * interval, pid)
                b.add(C.HEAP_ALLOCATED_BLOCKS, t, 50_000 + rng.normal(0, 200), pid)
    for t in np.arange(0.0, end_t, interval):
        b.add(C.PROCESS_MEMORY_USAGE, t, 60 * MIB, 1000)
        b.add(C.PROCESS_FD_COUNT, t, 10, 1000)
        b.add(C.PROCESS_THREAD_COUNT, t, 3, 1000)
        b.add(C.PROCESS_CPU_UTILIZATION, t, 0.01, 1000)
        b.add(C.SYSTEM_LOAD_1M, t, 0.6, -1)
        b.add(C.SYSTEM_MEMORY_UTILIZATION, t, 0.3, -1, None, "used")
        b.add(C.SYSTEM_MEMORY_USAGE, t, 0.3 * 16 * 2**30, -1, None, "used")
    return b.build()


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def _flagged(grade, dim: str) -> bool:
    return grade.dimensions[dim].flagged


def test_clean_swarm_is_a_range_and_clean(cfg) -> None:
    g = grade_session(make_session(), cfg)
    assert g.grade.startswith("A"), (g.score, {n: d.score for n, d in g.dimensions.items()})
    for name, dim in g.dimensions.items():
        assert not dim.flagged, (name, [f.text for f in dim.findings])
        assert dim.score is not None
    assert g.dimensions["memory"].leaks == [] and g.dimensions["cleanup"].orphans == []
    assert [r.phase for r in g.phases] == ["baseline", "agents active", "peak",
                                           "pre-termination", "post-termination"]
    assert all(r.ts_ns is not None for r in g.phases)


def test_memory_leak_names_the_agent_only(cfg) -> None:
    specs = [{"name": "steady"}, {"name": "leaky", "rss_slope": 5 * MIB}, {"name": "calm"}]
    g = grade_session(make_session(specs), cfg)
    mem = g.dimensions["memory"]
    assert [lk.agent_name for lk in mem.leaks] == ["leaky"]
    assert mem.leaks[0].pid == 2001 and mem.leaks[0].slope == pytest.approx(5 * MIB, rel=0.1)
    assert mem.flagged and any("leaky" in f.text for f in mem.findings)
    assert not any("steady" in f.text for f in mem.findings if f.severity == Severity.CRITICAL)
    assert mem.score < grade_session(make_session(), cfg).dimensions["memory"].score - 10


def test_noisy_flat_memory_is_not_a_leak(cfg) -> None:
    specs = [{"name": "noisy", "rss_noise": 6 * MIB}, {"name": "calm"}]
    g = grade_session(make_session(specs, duration=20), cfg)
    assert g.dimensions["memory"].leaks == []


def test_fd_leak_flags_processes(cfg) -> None:
    specs = [{"name": "opener", "fd_slope": 6}, {"name": "calm"}]
    g = grade_session(make_session(specs), cfg)
    proc = g.dimensions["processes"]
    assert [(lk.agent_name, lk.metric) for lk in proc.leaks] == [("opener", C.PROCESS_FD_COUNT)]
    assert proc.flagged and g.dimensions["memory"].leaks == []


def test_cpu_spinner_flags_cpu(cfg) -> None:
    # busy for 13 s: longer than thresholds.cpu.spinning_min_seconds
    g = grade_session(make_session([{"name": "spinner", "cpu": 0.95}, {"name": "calm"}],
                                   duration=16.0), cfg)
    cpu = g.dimensions["cpu"]
    assert cpu.flagged and any(f.agent_name == "spinner" for f in cpu.findings
                               if f.severity == Severity.WARNING)
    assert not g.dimensions["memory"].flagged


def test_gc_heavy_agent_flags_gc(cfg) -> None:
    g = grade_session(make_session([{"name": "cycler", "gc_cycles": 2000}, {"name": "c"}]), cfg)
    gc = g.dimensions["gc"]
    assert gc.flagged and any(f.agent_name == "cycler" for f in gc.findings)
    assert gc.score < 75


def test_orphans_zombies_and_late_samples_flag_cleanup(cfg) -> None:
    data = make_session()
    data.cleanup = [
        LeftoverRecord("orphan", 4242, 1, "agent-0", "sleep 60", 3.0, None),
        LeftoverRecord("zombie", 4343, 2001, "agent-1", "true", 1.0, None),
    ]
    g = grade_session(data, cfg)
    clean = g.dimensions["cleanup"]
    assert [o.pid for o in clean.orphans] == [4242] and [z.pid for z in clean.zombies] == [4343]
    assert clean.orphans[0].agent_name == "worker-0"
    assert clean.flagged and clean.score < 80


def test_process_sampled_after_terminate_is_an_orphan(cfg) -> None:
    data = make_session()
    rss = data.metrics[C.PROCESS_MEMORY_USAGE]
    late = T0 + int(11.5 * NS)  # worker-0 terminated at 9 s; settle 2 s
    data.metrics[C.PROCESS_MEMORY_USAGE] = Samples(
        np.r_[rss.ts, late], np.r_[rss.value, 5 * MIB], np.r_[rss.pid, 2100],
        np.r_[rss.agent, np.array(["agent-0"], dtype=object)], np.r_[rss.key, [None]])
    g = grade_session(data, cfg)
    assert [(o.pid, o.source) for o in g.dimensions["cleanup"].orphans] == [(2100, "metrics")]


def test_missing_data_is_not_measured_not_scored(cfg) -> None:
    data = make_session(gc=False)
    data.facts["audit_spans"] = 0
    g = grade_session(data, cfg)
    assert g.dimensions["gc"].score is None and g.dimensions["gc"].grade == "n/a"
    assert any(n.startswith("gc") for n in g.not_measured)
    assert "processes that exited but were never reaped" in g.dimensions["cleanup"].not_measured
    assert g.score is not None


def test_foreign_producer_without_process_data(cfg) -> None:
    data = SessionData("foreign", agents=[AgentRecord("a", "a", None, None, T0, None)])
    g = grade_session(data, cfg)
    assert g.score is None or all(d.score is None for n, d in g.dimensions.items()
                                  if n != "cleanup")
    assert g.dimensions["memory"].score is None and g.dimensions["cpu"].score is None


def test_leak_outside_settle_window_does_not_hide_cleanup(cfg) -> None:
    g = grade_session(make_session(settle_samples=False), cfg)
    assert any("settle window" in f.text for f in g.dimensions["cleanup"].findings)


def test_baseline_without_samples_before_spawn_uses_the_sessions_own_processes(cfg) -> None:
    data = make_session()
    for metric, s in list(data.metrics.items()):  # sampling starts after the first spawn
        data.metrics[metric] = s.where(s.ts >= T0 + int(1.4 * NS))
    g = grade_session(data, cfg)
    base = g.phases[0]
    assert base.phase == "baseline" and "estimated" in base.event
    assert base.process_count == 1 and base.session_memory == 60 * MIB
    assert g.dimensions["cleanup"].score == 100.0  # back to that baseline after termination


def test_terminated_process_is_not_carried_into_post_termination(cfg) -> None:
    data = make_session(settle_samples=False)  # samples end ~0.5 s after the last terminate
    g = grade_session(data, cfg)
    post = g.phases[-1]
    assert post.process_count == 1 and post.session_memory == 60 * MIB


def _system_memory_finding(grade):
    [finding] = [f for f in grade.dimensions["memory"].findings
                 if f.metric == C.SYSTEM_MEMORY_UTILIZATION]
    return finding


def test_verdict_thresholds_come_from_the_control_points(cfg, tmp_path) -> None:
    session = make_session(seed=4)  # system memory runs at 30 %
    default = _system_memory_finding(grade_session(session, cfg))
    assert default.severity == Severity.INFO
    points = tmp_path / "points.toml"
    points.write_text("[thresholds.memory]\nsystem_peak_warning = 0.25\n")
    strict = load_config(points)
    graded = grade_session(make_session(seed=4), strict)
    finding = _system_memory_finding(graded)
    assert finding.severity == Severity.WARNING
    assert "25 % alert line" in finding.text
    assert graded.dimensions["memory"].flagged
    # the score is the curve's business, not the threshold's
    figure = {f.key: f.score for f in graded.dimensions["memory"].figures}["system_peak"]
    assert figure == {f.key: f.score for f in grade_session(session, cfg)
                      .dimensions["memory"].figures}["system_peak"]


def test_load_threshold_override_turns_the_load_finding_critical(cfg, tmp_path) -> None:
    points = tmp_path / "points.toml"
    points.write_text("[thresholds.cpu]\nload_per_core_warning = 0.1\n"
                      "load_per_core_critical = 0.2\n")
    busy = make_session([{"name": f"worker-{i}", "cpu": 0.3} for i in range(3)])
    graded = grade_session(busy, load_config(points))
    [load] = [f for f in graded.dimensions["cpu"].findings if f.metric == C.SYSTEM_LOAD_1M]
    # 0.6 on 2 cores is 0.3 per core, all of it the session's (its agents use 0.9 cores)
    assert load.severity == Severity.CRITICAL
    assert graded.dimensions["cpu"].score <= cfg.critical_cap
