"""Cleanup verdicts on sessions ingested from OTLP files: zombies only past the grace period
and naming who fails to reap them, hung workers as dimensions.cleanup.hung, orphans."""

from __future__ import annotations

import json
from pathlib import Path

from otlp_session import OtlpSession
from swarmscope import conventions as C
from swarmscope.analyzer.api import render
from swarmscope.analyzer.results import Verdict


def _kinds(g, dim: str = "cleanup") -> list[str]:
    return [str(f.kind) for f in g.dimensions[dim].findings if f.kind]


def _daemon_session(name: str, events: list) -> OtlpSession:
    s = OtlpSession(name)
    root = s.process("claude-flow swarm", 100, 0.5, 12.0, role="agent")
    s.run_samples(root, cores=0.02)
    stop = s.process("claude-flow daemon stop", 101, 8.0, 9.0, role="agent", parent=root)
    s.run_samples(stop, cores=0.1)
    s.audit(12.5, events)
    return s


def test_zombie_init_reaps_late_is_not_a_finding(data_dir: Path) -> None:
    zombie = {C.PROCESS_PID: 555, C.PROCESS_PARENT_PID: 1, C.PROCESS_EXECUTABLE_NAME: "node",
              C.ZOMBIE_SECONDS: 0.4, C.PARENT_NAME: "init"}
    g = _daemon_session("zombie-late", [(C.EVENT_ZOMBIE, zombie)]).grade(data_dir)
    clean = g.dimensions["cleanup"]
    assert clean.zombies == [] and Verdict.CLEANUP_ZOMBIE not in _kinds(g)
    assert not clean.flagged, [f.text for f in clean.findings]
    assert any("555" in f.text and "not left behind" in f.text for f in clean.findings)


def test_zombie_nobody_reaps_names_its_parent(data_dir: Path) -> None:
    zombie = {C.PROCESS_PID: 556, C.PROCESS_PARENT_PID: 100, C.PROCESS_EXECUTABLE_NAME: "node",
              C.ZOMBIE_SECONDS: 9.0}
    g = _daemon_session("zombie-kept", [(C.EVENT_ZOMBIE, zombie)]).grade(data_dir)
    clean = g.dimensions["cleanup"]
    assert [z.pid for z in clean.zombies] == [556]
    [finding] = [f for f in clean.findings if f.kind == Verdict.CLEANUP_ZOMBIE]
    assert "pid 100 (claude-flow swarm)" in finding.text and "9 s" in finding.text
    assert clean.flagged and clean.score <= 69
    doc = json.loads(render(g, "json"))["dimensions"]["cleanup"]["zombies"]
    assert (doc[0]["parent_pid"], doc[0]["parent_name"]) == (100, "claude-flow swarm")


def test_zombie_of_init_past_the_grace_is_a_finding(data_dir: Path) -> None:
    zombie = {C.PROCESS_PID: 557, C.PROCESS_PARENT_PID: 1, C.ZOMBIE_SECONDS: 30.0}
    g = _daemon_session("zombie-init", [(C.EVENT_ZOMBIE, zombie)]).grade(data_dir)
    [finding] = [f for f in g.dimensions["cleanup"].findings
                 if f.kind == Verdict.CLEANUP_ZOMBIE]
    assert "pid 1 (init)" in finding.text


def test_daemon_left_running_is_an_orphan(data_dir: Path) -> None:
    orphan = {C.PROCESS_PID: 700, C.PROCESS_PARENT_PID: 1,
              C.PROCESS_EXECUTABLE_NAME: "claude-flow daemon start", C.PROCESS_AGE: 11.0}
    g = _daemon_session("orphan", [(C.EVENT_ORPHAN, orphan)]).grade(data_dir)
    assert [o.pid for o in g.dimensions["cleanup"].orphans] == [700]
    assert Verdict.CLEANUP_ORPHAN in _kinds(g)


def test_clean_stop_has_no_leftover_verdict(data_dir: Path) -> None:
    g = _daemon_session("clean-stop", []).grade(data_dir)
    clean = g.dimensions["cleanup"]
    assert _kinds(g) == [] and not clean.flagged and clean.hung == []


def test_hung_workers_in_json_markdown_and_html(data_dir: Path) -> None:
    s = OtlpSession("hung")
    root = s.process("claude-flow swarm", 100, 0.5, 60.0, role="agent")
    worker = s.process("claude --print", 120, 2.0, None, role="agent", parent=root)
    s.run_samples(root, cores=0.02)
    hung = {C.PROCESS_PID: 120, C.AGENT_INSTANCE_ID: worker.agent_id,
            C.WAITING_ON: "stdin pipe (fd 0)", C.IDLE_SECONDS: 45.0, C.HOLDER_PID: 100}
    s.audit(50.0, [(C.EVENT_HUNG, hung), (C.EVENT_HUNG, {**hung, C.IDLE_SECONDS: 55.0})])
    g = s.grade(data_dir)
    doc = json.loads(render(g, "json"))["dimensions"]["cleanup"]
    assert doc["hung"] == [{"pid": 120, "agent": "claude --print", "agent_id": worker.agent_id,
                            "waiting_on": "stdin pipe (fd 0)", "idle_seconds": 55.0,
                            "holder_pid": 100}]
    [finding] = [f for f in g.dimensions["cleanup"].findings if f.kind == Verdict.CLEANUP_HUNG]
    assert "pid 120" in finding.text and "stdin pipe (fd 0)" in finding.text
    assert "55 s" in finding.text and "pid 100" in finding.text
    assert g.dimensions["cleanup"].flagged
    md = render(g, "md")
    assert "| 120 | claude --print | stdin pipe (fd 0) | 55 s |" in md
    assert "**HUNG** claude --print (pid 120)" in md
    html = render(g, "html")
    assert "<td>stdin pipe (fd 0)</td>" in html and 'class="bar hung"' in html


def test_no_hung_events_no_hung_verdict(data_dir: Path) -> None:
    s = OtlpSession("waiting")
    root = s.process("claude-flow swarm", 100, 0.5, 60.0, role="agent")
    s.process("worker", 120, 2.0, 58.0, role="agent", parent=root)
    s.audit(59.0, [])
    g = s.grade(data_dir)
    assert g.dimensions["cleanup"].hung == [] and Verdict.CLEANUP_HUNG not in _kinds(g)
    assert json.loads(render(g, "json"))["dimensions"]["cleanup"]["hung"] == []
