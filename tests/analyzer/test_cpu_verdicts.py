"""The spinner verdict (cpu.spinning) on sessions ingested from OTLP files: a process busy for
longer than spinning_min_seconds spins; short commands that work at full speed and exit do
not, and they do not lower the CPU grade by themselves."""

from __future__ import annotations

from pathlib import Path

from otlp_session import OtlpSession
from swarmscope.analyzer.results import Verdict


def _spinning(g) -> list[str]:
    return [f.agent_name for f in g.dimensions["cpu"].findings if f.kind == Verdict.CPU_SPINNING]


def _orchestrator(s: OtlpSession, end: float):
    root = s.process("claude-flow swarm", 100, 0.5, end, role="agent")
    s.run_samples(root, cores=0.02)
    s.host_samples(end + 3)
    return root


def test_short_full_speed_cli_invocations_are_not_spinning(data_dir: Path) -> None:
    # four node CLI processes living 0.4-1.4 s at 0.96 cores each, as claude-flow runs them
    s = OtlpSession("short-cli")
    root = _orchestrator(s, 20.0)
    for i, life in enumerate((0.4, 0.8, 1.1, 1.4)):
        start = 2.0 + 3 * i
        cli = s.process("claude-flow hooks pre-task", 200 + i, start, start + life,
                        role="agent", parent=root)
        s.run_samples(cli, cores=0.96, every=0.2, voluntary_per_s=0.0)
    g = s.grade(data_dir)
    cpu = g.dimensions["cpu"]
    assert _spinning(g) == []
    assert not cpu.flagged, [f.text for f in cpu.findings]
    assert cpu.grade.startswith("A"), (cpu.score, [f.text for f in cpu.findings])
    assert any("short-lived" in f.text and "not spinning" in f.text for f in cpu.findings)


def test_true_spinner_busy_longer_than_the_control_point_spins(data_dir: Path) -> None:
    s = OtlpSession("spinner")
    root = _orchestrator(s, 20.0)
    spinner = s.process("busy-worker", 300, 2.0, 16.0, role="agent", parent=root)
    s.run_samples(spinner, cores=0.97, voluntary_per_s=0.0)
    g = s.grade(data_dir)
    assert _spinning(g) == ["busy-worker"]
    assert g.dimensions["cpu"].flagged


def test_spinner_verdict_follows_the_control_point(data_dir: Path, tmp_path: Path) -> None:
    points = tmp_path / "points.toml"
    points.write_text("[thresholds.cpu]\nspinning_min_seconds = 30.0\n")
    s = OtlpSession("spinner-30")
    root = _orchestrator(s, 20.0)
    s.run_samples(s.process("busy-worker", 300, 2.0, 16.0, parent=root), cores=0.97,
                  voluntary_per_s=0.0)
    assert _spinning(s.grade(data_dir, points)) == []


def test_busy_bursts_between_waits_are_not_spinning(data_dir: Path) -> None:
    # a long-lived worker that does 4 s of full-speed work, then waits 2 s, over and over
    s = OtlpSession("bursty")
    root = _orchestrator(s, 40.0)
    worker = s.process("worker", 400, 1.0, 37.0, role="agent", parent=root)
    t = 1.05
    while t < 37.0:
        busy = (t - 1.0) % 6 < 4
        s.sample("process.memory.usage", worker, t, 40e6)
        s.sample("process.cpu.utilization", worker, t, (0.95 if busy else 0.0) / 2,
                 cpu__mode="user")
        t += 0.5
    assert _spinning(s.grade(data_dir)) == []
