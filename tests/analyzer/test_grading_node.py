"""Node.js verdicts on sessions written as the preload writes them (OTLP files, per-space heap
gauges, a cumulative GC histogram, event-loop delay gauges), ingested into DuckDB and graded:
V8 heap leaks, the gc dimension of Node agents, and blocked event loops - each with the
look-alikes that must not trigger it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from otlp_session import OtlpSession, Proc, _ts, kv
from swarmscope import conventions as C
from swarmscope.analyzer.results import SessionGrade, Verdict

EVERY = 0.5  # s between the preload's exports in these sessions
MIB = 1024 * 1024


@dataclass
class NodeSession(OtlpSession):
    """An OtlpSession whose processes also write the preload's series. Like real forked Node
    workers, every process's points carry one inherited agent id (the root's)."""

    inherited_agent: str = "node-root-00000001"
    gc_points: list[dict[str, Any]] = field(default_factory=list)

    def _attrs(self, proc: Proc, **extra: str) -> list[dict[str, Any]]:
        return [kv(C.PROCESS_PID, proc.pid), kv(C.AGENT_INSTANCE_ID, self.inherited_agent),
                *(kv(k, v) for k, v in extra.items())]

    def node_samples(self, proc: Proc, heap: Any, delay: Any = 0.011,
                     gc: Any = None) -> None:
        """Exports every EVERY s over the process's life: ``heap(t)`` bytes split over two
        heap spaces, ``delay(t)`` s of event-loop delay, ``gc(t)`` -> {type: (count, s)}."""
        t = proc.start_s + EVERY
        end = proc.end_s if proc.end_s is not None else proc.start_s
        while t <= end:
            total = heap(t) if callable(heap) else heap
            for space, share in (("new_space", 0.25), ("old_space", 0.75)):
                self.points.setdefault(C.V8JS_HEAP_USED, []).append(
                    {"timeUnixNano": _ts(t), "asDouble": total * share,
                     "attributes": self._attrs(proc, **{C.V8JS_HEAP_SPACE_NAME: space})})
            d = delay(t) if callable(delay) else delay
            self.points.setdefault(C.NODEJS_LOOP_DELAY_MAX, []).append(
                {"timeUnixNano": _ts(t), "asDouble": d, "attributes": self._attrs(proc)})
            for gc_type, (count, seconds) in (gc(t) if gc else {}).items():
                self.gc_points.append(
                    {"startTimeUnixNano": _ts(proc.start_s), "timeUnixNano": _ts(t),
                     "count": str(count), "sum": seconds,
                     "bucketCounts": [str(count)], "explicitBounds": [],
                     "attributes": self._attrs(proc, **{C.V8JS_GC_TYPE: gc_type})})
            t += EVERY

    def write(self, data_dir: Path) -> None:
        super().write(data_dir)
        if not self.gc_points:
            return
        resource = {"attributes": [kv(C.SESSION_ID, self.session_id),
                                   kv(C.SERVICE_NAME, "node")]}
        histogram = {"name": C.V8JS_GC_DURATION, "unit": "s",
                     "histogram": {"aggregationTemporality": 2, "dataPoints": self.gc_points}}
        line = {"resourceMetrics": [{"resource": resource,
                                     "scopeMetrics": [{"metrics": [histogram]}]}]}
        with (data_dir / f"{self.session_id}.jsonl").open("a") as f:
            f.write(json.dumps(line) + "\n")


def sawtooth(low: float, high: float, period: float = 3.0):
    """A churning heap: climbs from ``low`` to ``high`` and drops back at each collection."""
    return lambda t: low + (high - low) * ((t % period) / period)


def findings(g: SessionGrade, dim: str, kind: Verdict) -> list[Any]:
    return [f for f in g.dimensions[dim].findings if f.kind == kind]


def pool(s: NodeSession, n: int, lived: float = 20.0) -> list[Proc]:
    root = s.process("pool", 100, 0.0, lived + 0.5)
    s.run_samples(root, 0.05)
    return [s.process(f"pool worker {i}", 101 + i, 0.1, lived, parent=root) for i in range(n)]


# --- memory: V8 heap leaks --------------------------------------------------------------------


def test_v8_heap_leak_names_the_forked_worker_only(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-leak")
    grower, churn_a, churn_b = pool(s, 3)
    s.node_samples(grower, lambda t: 20 * MIB + 3 * MIB * t + (t * 7919 % 3) * MIB / 4)
    s.node_samples(churn_a, sawtooth(10 * MIB, 30 * MIB))
    s.node_samples(churn_b, sawtooth(8 * MIB, 24 * MIB, period=2.0))
    g = s.grade(tmp_path)
    leaks = [lk for lk in g.dimensions["memory"].leaks if lk.metric == C.V8JS_HEAP_USED]
    assert [(lk.agent_id, lk.pid) for lk in leaks] == [(grower.agent_id, grower.pid)]
    leak_texts = [f.text for f in findings(g, "memory", Verdict.MEMORY_LEAK)]
    assert len(leak_texts) == 1 and "pool worker 0" in leak_texts[0]
    assert "V8 heap" in leak_texts[0]


def test_churning_v8_heap_is_not_a_leak(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-churn")
    churn, idle = pool(s, 2)
    s.node_samples(churn, sawtooth(10 * MIB, 40 * MIB, period=2.5))
    # an idle process's heap creeps up by well under a MiB as code is compiled lazily
    s.node_samples(idle, lambda t: 4.2 * MIB + 0.04 * MIB * t)
    g = s.grade(tmp_path)
    assert g.dimensions["memory"].leaks == []
    # both V8 heaps were tested (beside the root's RSS), and neither is a leak
    leaks_figure = {f.key: f.display for f in g.dimensions["memory"].figures}["leaks"]
    assert leaks_figure == "0 of 3 series"
    assert not findings(g, "memory", Verdict.MEMORY_LEAK)


# --- gc ---------------------------------------------------------------------------------------


def _gc(minor_per_s: float, minor_s: float, major_per_min: float, major_s: float):
    def at(t: float) -> dict[str, tuple[int, float]]:
        out = {"minor": (int(minor_per_s * t), minor_per_s * t * minor_s)}
        majors = int(major_per_min * t / 60)
        if majors:
            out["major"] = (majors, majors * major_s)
        return out
    return at


def test_gc_dimension_is_graded_for_node_agents(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-gc")
    (worker,) = pool(s, 1)
    s.node_samples(worker, sawtooth(10 * MIB, 20 * MIB), gc=_gc(2, 0.001, 2, 0.01))
    gc = s.grade(tmp_path).dimensions["gc"]
    assert gc.score is not None
    keys = {f.key for f in gc.figures}
    assert {"node_time_share", "node_major_gc_per_min", "node_heap_growth"} <= keys


def test_gc_heavy_node_process_flags_gc(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-gc-heavy")
    heavy, quiet = pool(s, 2)
    # 20 % of its time in GC, two major collections a second
    s.node_samples(heavy, sawtooth(50 * MIB, 90 * MIB), gc=_gc(10, 0.008, 120, 0.06))
    s.node_samples(quiet, sawtooth(10 * MIB, 20 * MIB), gc=_gc(1, 0.001, 0, 0))
    g = s.grade(tmp_path)
    for kind in (Verdict.GC_TIME_SHARE, Verdict.GC_FULL_COLLECTIONS):
        found = findings(g, "gc", kind)
        assert [f.agent_id for f in found] == [heavy.agent_id], kind
        assert f"pid {heavy.pid}" in found[0].text


def test_quiet_node_gc_is_no_verdict(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-gc-quiet")
    a, b = pool(s, 2)
    s.node_samples(a, sawtooth(10 * MIB, 20 * MIB), gc=_gc(2, 0.001, 1, 0.005))
    s.node_samples(b, 5 * MIB)  # no collection at all: no GC points
    gc = s.grade(tmp_path).dimensions["gc"]
    assert not [f for f in gc.findings if f.kind is not None]
    values = {f.key: f.value for f in gc.figures}
    assert values["node_time_share"] < 0.02 and values["node_major_gc_per_min"] < 6


# --- cpu: event-loop delay --------------------------------------------------------------------


def _bursts(t: float) -> float:
    return 0.2 if int(t / EVERY) % 4 else 0.012  # three exports in four see a 200 ms block


def test_blocked_event_loop_flags_that_process_only(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-loop")
    blocker, idle = pool(s, 2)
    s.node_samples(blocker, 12 * MIB, delay=_bursts)
    s.node_samples(idle, 6 * MIB, delay=lambda t: 0.011 + (t * 31 % 5) / 1000)
    cpu = s.grade(tmp_path).dimensions["cpu"]
    found = [f for f in cpu.findings if f.kind == Verdict.CPU_EVENT_LOOP]
    assert [f.agent_id for f in found] == [blocker.agent_id]
    assert f"pid {blocker.pid}" in found[0].text
    figure = {f.key: f for f in cpu.figures}["event_loop_delay"]
    assert np.isclose(figure.value, 0.2) and "pool worker 0" in figure.display


def test_one_long_pause_is_not_a_blocked_loop(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-pause")
    starts_slowly, one_big_gc = pool(s, 2)
    s.node_samples(starts_slowly, 8 * MIB, delay=lambda t: 0.9 if t < 1.2 else 0.012)
    s.node_samples(one_big_gc, 8 * MIB, delay=lambda t: 0.4 if 10 <= t < 10.5 else 0.011)
    cpu = s.grade(tmp_path).dimensions["cpu"]
    assert not [f for f in cpu.findings if f.kind == Verdict.CPU_EVENT_LOOP]
    assert {f.key: f.value for f in cpu.figures}["event_loop_delay"] < 0.05


def test_short_cli_blocking_its_loop_is_not_judged(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-cli")
    root = s.process("orchestrator", 100, 0.0, 30.0)
    s.run_samples(root, 0.05)
    for i in range(5):  # `npx some-cli status`: loads its modules synchronously, prints, exits
        cli = s.process("some-cli status", 200 + i, 2.0 + 5 * i, 4.5 + 5 * i, parent=root)
        s.node_samples(cli, 30 * MIB, delay=0.6)
    cpu = s.grade(tmp_path).dimensions["cpu"]
    assert not [f for f in cpu.findings if f.kind == Verdict.CPU_EVENT_LOOP]
    assert "event_loop_delay" not in {f.key for f in cpu.figures}


def test_event_loop_verdict_follows_the_control_point(tmp_path: Path) -> None:
    s = NodeSession(session_id="node-loop-config")
    (worker,) = pool(s, 1)
    s.node_samples(worker, 8 * MIB, delay=0.06)  # slow but under the default 0.1 s line
    assert not findings(s.grade(tmp_path / "default"), "cpu", Verdict.CPU_EVENT_LOOP)
    config = tmp_path / "points.toml"
    config.write_text("[thresholds.cpu]\nevent_loop_delay_warning = 0.05\n")
    strict = s.grade(tmp_path / "strict", config)
    assert [f.agent_id for f in findings(strict, "cpu", Verdict.CPU_EVENT_LOOP)] == [
        worker.agent_id]
