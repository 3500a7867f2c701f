"""Agents, helpers and lifetimes on sessions ingested from OTLP files: duplicate daemons (and
the look-alikes that are not), helpers grouped under their agent, the rolling and the classic
shape of a session, and a 1,000-process tree that stays readable."""

from __future__ import annotations

import json
import re
from pathlib import Path

from otlp_session import OtlpSession
from swarmscope.analyzer.api import render
from swarmscope.analyzer.results import Verdict

HELPER = "helper"


def _duplicates(g) -> list:
    return g.dimensions["processes"].duplicates


def _root(s: OtlpSession, end: float):
    root = s.process("claude-flow swarm", 100, 0.5, end, role="agent")
    s.run_samples(root, cores=0.02)
    return root


def test_duplicate_daemons_are_flagged_with_command_and_pids(data_dir: Path) -> None:
    s = OtlpSession("dupes")
    root = _root(s, 130.0)
    for i, start in enumerate((2.0, 10.0)):
        s.process("claude-flow daemon start", 200 + i, start, 120.0, role="agent", parent=root)
    g = s.grade(data_dir)
    [dup] = _duplicates(g)
    assert (dup.command, dup.pids) == ("claude-flow daemon start", [200, 201])
    [finding] = [f for f in g.dimensions["processes"].findings
                 if f.kind == Verdict.PROCESSES_DUPLICATE_DAEMONS]
    assert "claude-flow daemon start" in finding.text and "200, 201" in finding.text
    assert g.dimensions["processes"].flagged
    doc = json.loads(render(g, "json"))["dimensions"]["processes"]["duplicate_daemons"]
    assert doc[0]["pids"] == [200, 201]


def test_sequential_restart_is_not_a_duplicate(data_dir: Path) -> None:
    s = OtlpSession("restart")
    root = _root(s, 130.0)
    s.process("claude-flow daemon start", 200, 2.0, 60.0, role="agent", parent=root)
    s.process("claude-flow daemon start", 201, 59.5, 120.0, role="agent", parent=root)
    g = s.grade(data_dir)
    assert _duplicates(g) == [] and not g.dimensions["processes"].flagged


def test_many_short_invocations_of_one_command_are_not_duplicates(data_dir: Path) -> None:
    s = OtlpSession("invocations")
    root = _root(s, 60.0)
    for i in range(40):  # overlapping in pairs, but each lives 2 s
        s.process("claude-flow hooks pre-task", 300 + i, 2.0 + i, 4.0 + i, role="agent",
                  parent=root)
    g = s.grade(data_dir)
    assert _duplicates(g) == [] and not g.dimensions["processes"].flagged


def test_helpers_are_grouped_under_the_agent_that_ran_them(data_dir: Path) -> None:
    s = OtlpSession("helpers")
    root = _root(s, 40.0)
    worker = s.process("claude --print", 110, 2.0, 30.0, role="agent", parent=root)
    for i in range(5):
        s.process("ps", 400 + i, 3.0 + i, 3.05 + i, role=HELPER, parent=worker)
    shell = s.process("sh -c", 420, 10.0, 10.5, role=HELPER, parent=worker)
    s.process("which", 421, 10.1, 10.2, role=HELPER, parent=shell)  # a helper's helper
    s.process("sleep", 430, 12.0, 13.0, parent_pid=110)  # no role, short child of an agent
    g = s.grade(data_dir)
    assert [a.name for a in g.agents] == ["claude-flow swarm", "claude --print"]
    worker_row = g.agents[1]
    assert worker_row.started_by == "claude-flow swarm"
    assert {(h.name, h.count) for h in worker_row.helpers} == {
        ("ps", 5), ("sh -c", 1), ("which", 1), ("sleep", 1)}
    assert g.configuration["agents"] == 2 and g.configuration["helper_processes"] == 8
    count = next(f.text for f in g.dimensions["processes"].findings
                 if f.text.startswith("Session processes"))
    assert "2 agents, 8 helper processes" in count
    md = render(g, "md")
    assert "| ps |" not in md and "ps ×5" in md


def test_rolling_population_has_lifetimes_and_plain_sentences(data_dir: Path) -> None:
    s = OtlpSession("rolling")
    root = _root(s, 60.0)
    s.process("claude-flow daemon start", 150, 1.0, 58.0, role="agent", parent=root)
    for i in range(12):  # CLI invocations come and go throughout
        s.run_samples(s.process("claude-flow hooks post-edit", 300 + i, 3.0 + 4 * i,
                                4.0 + 4 * i, role="agent", parent=root), cores=0.3)
    s.host_samples(62.0)
    g = s.grade(data_dir)
    assert g.shape == "rolling"
    phases = [r.phase for r in g.phases]
    assert "agents active" not in phases and "pre-termination" not in phases
    assert phases[0] == "baseline" and all(r.ts_ns is not None for r in g.phases)
    assert any("rolling population" in n for n in g.phase_notes)
    md = render(g, "md")
    timeline = md.split("## Metrics timeline")[1].split("## Agents")[0]
    assert "no samples in this phase" not in md and "| pre-termination |" not in timeline
    assert "rolling population" in timeline
    pop = g.population
    assert pop["long_lived"]["count"] == 2 and pop["short_lived"]["count"] == 12
    assert "Long-lived agents (ran 30 s or longer): 2" in md
    assert "Short-lived agents (under 30 s): 12" in md
    daemon = next(a for a in g.agents if a.name == "claude-flow daemon start")
    assert daemon.long_lived and daemon.started_by == "claude-flow swarm"
    assert round(daemon.lifetime_s) == 57 and daemon.ended == "exit 0"


def test_classic_shape_keeps_every_phase(data_dir: Path) -> None:
    s = OtlpSession("classic")
    s.own_samples(100, 20.0)  # the orchestrator, no agent itself
    for i in range(3):
        s.run_samples(s.process(f"worker-{i}", 200 + i, 2.0 + 0.1 * i, 14.0 + 0.1 * i,
                                parent_pid=100, role="agent"), cores=0.05)
    g = s.grade(data_dir)
    assert g.shape == "classic"
    assert [r.phase for r in g.phases] == ["baseline", "agents active", "peak",
                                           "pre-termination", "post-termination"]
    assert g.phase_notes == []


def test_thousand_process_tree_is_aggregated(data_dir: Path) -> None:
    s = OtlpSession("thousand")
    root = _root(s, 200.0)
    worker = s.process("claude --print", 110, 1.0, 190.0, role="agent", parent=root)
    for i in range(990):
        s.process("ps", 1000 + i, 2.0 + i * 0.18, 2.01 + i * 0.18 + (i % 20) * 0.01,
                  role=HELPER, parent=worker)
    s.process("node", 5000, 100.0, 100.5, role=HELPER, parent=worker, exit_code=127)
    s.process("node", 5001, 101.0, 101.5, role=HELPER, parent=worker, exit_code=127)
    s.process("node", 5002, 102.0, 102.5, role=HELPER, parent=worker, exit_code=1)
    s.process("claude-flow daemon start", 150, 5.0, None, role="agent", parent=root)
    s.audit(199.0, [("swarm.process.orphan", {"process.pid": 150, "process.parent_pid": 1})])
    g = s.grade(data_dir)
    md = render(g, "md")
    tree = md.split("## Process tree")[1].split("## Strengths")[0]
    rows = [line for line in tree.splitlines() if line.strip().startswith("- ")]
    assert len(rows) <= 8, tree
    assert "ps ×990, 0.01 s-0.20 s, all exit 0" in tree
    assert "node ×3" in tree and "exit 127 (crashed) ×2" in tree
    assert "**ORPHAN** claude-flow daemon start (pid 150)" in tree
    assert re.search(r"^  - claude --print \(pid 110\)", tree, re.M)  # under the swarm
    html = render(g, "html")
    chart = html.split('<svg class="lifetimes"')[1].split("</svg>")[0]
    assert chart.count("<rect") <= 8 and 'class="bar orphan"' in chart
    doc = json.loads(render(g, "json"))
    assert doc["process_tree"][0]["name"] == "claude-flow swarm"
