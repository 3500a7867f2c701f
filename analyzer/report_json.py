"""The graded session as JSON: grades, scores, findings and the verdicts as data."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .report_windows import json_windows
from .results import DimensionGrade, HungProcess, LeftoverProcess, SessionGrade


def _leftover(p: LeftoverProcess) -> dict[str, Any]:
    return {"pid": p.pid, "command": p.command, "agent": p.agent, "agent_name": p.agent_name,
            "parent_pid": p.parent_pid, "parent_name": p.parent_name,
            "age_seconds": p.age_seconds, "zombie_seconds": p.zombie_seconds,
            "source": p.source}


def _hung(h: HungProcess) -> dict[str, Any]:
    """``dimensions.cleanup.hung[]``: pid, agent, waiting_on, idle_seconds (and detail)."""
    return {"pid": h.pid, "agent": h.agent_name or h.agent, "agent_id": h.agent,
            "waiting_on": h.waiting_on, "idle_seconds": h.idle_seconds,
            "holder_pid": h.holder_pid}


def _dimension(d: DimensionGrade) -> dict[str, Any]:
    out: dict[str, Any] = {
        "grade": d.grade,
        "score": d.score,
        "assessment": d.assessment,
        "flagged": d.flagged,
        "findings": [f.text for f in d.findings],
        "evidence": [asdict(f) for f in d.findings],
        "figures": [asdict(f) for f in d.figures],
        "not_measured": d.not_measured,
    }
    if d.name in ("memory", "processes"):
        out["leaks"] = [
            {"agent_id": lk.agent_id, "agent_name": lk.agent_name, "pid": lk.pid,
             "metric": lk.metric, "slope": lk.slope, "p_value": lk.p_value,
             "relative_growth": lk.relative_growth, "level": lk.level, "samples": lk.samples}
            for lk in d.leaks
        ]
    if d.name == "processes":
        out["duplicate_daemons"] = [asdict(x) for x in d.duplicates]
    if d.name == "cleanup":
        out["orphans"] = [_leftover(p) for p in d.orphans]
        out["zombies"] = [_leftover(p) for p in d.zombies]
        out["hung"] = [_hung(h) for h in d.hung]
    return out


def to_dict(g: SessionGrade) -> dict[str, Any]:
    """The JSON document: ``session``, ``overall``, ``dimensions`` and the supporting detail."""
    return {
        "session": g.session,
        "overall": {"grade": g.grade, "score": g.score, "assessment": g.assessment},
        "dimensions": {name: _dimension(d) for name, d in g.dimensions.items()},
        "not_measured": g.not_measured,
        "timeline": [asdict(r) for r in g.phases],
        "shape": g.shape,
        "phase_notes": g.phase_notes,
        "agents": [asdict(a) for a in g.agents],
        "population": g.population,
        "session_helpers": [asdict(h) for h in g.session_helpers],
        "process_tree": [asdict(n) for n in g.tree],
        "environment": g.environment,
        "configuration": g.configuration,
        "start_ns": g.start_ns,
        "end_ns": g.end_ns,
        "config_source": g.config_source,
        "alerts": [vars(a) for a in g.alerts],  # report_alerts.AlertRow
        "windows": json_windows(g),
    }


def render_json(g: SessionGrade) -> str:
    return json.dumps(to_dict(g), indent=2, default=str) + "\n"
