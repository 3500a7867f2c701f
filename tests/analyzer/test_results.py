"""The result model: findings are built by keyword with a typed severity whose JSON strings
are the ones reports have always carried."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from swarmscope.analyzer.results import DimensionGrade, Finding, Severity


def test_severity_values_are_the_json_strings() -> None:
    assert [str(s) for s in Severity] == ["good", "info", "warning", "critical"]
    assert Severity("critical") is Severity.CRITICAL
    assert json.dumps(asdict(Finding(text="x", severity=Severity.WARNING))) == json.dumps(
        {"text": "x", "severity": "warning", "agent_id": None, "agent_name": None,
         "metric": None, "recommendation": None, "kind": None})


def test_only_warning_and_critical_flag() -> None:
    assert [s for s in Severity if s.flags] == [Severity.WARNING, Severity.CRITICAL]
    dim = DimensionGrade(name="memory", score=90.0, grade="A", assessment="EXCELLENT",
                         findings=[Finding(text="fine", severity=Severity.GOOD)])
    assert not dim.flagged
    dim.findings.append(Finding(text="leak", severity=Severity.CRITICAL))
    assert dim.flagged


def test_finding_is_built_by_keyword_only() -> None:
    assert Finding(text="note").severity == Severity.INFO
    with pytest.raises(TypeError):
        Finding("text", "critical")  # type: ignore[misc]
