"""docs/grading.md's verdict table is complete: every verdict kind the grading code can
produce has a row, and every test a row names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from swarmscope.analyzer.results import Verdict

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "grading.md"
GRADING = ROOT / "analyzer" / "grading"


def _table_rows() -> dict[str, str]:
    text = DOC.read_text().split("## Verdicts, their look-alikes")[1].split("\n## ")[0]
    return {m.group(1): line for line in text.splitlines()
            if (m := re.match(r"\| `([a-z_.]+)` \|", line))}


def test_every_verdict_kind_is_in_the_table() -> None:
    rows = _table_rows()
    assert set(rows) == {str(v) for v in Verdict}


def test_every_verdict_the_grading_code_uses_is_a_verdict_kind() -> None:
    used = set()
    for path in GRADING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "Verdict"):
                used.add(node.attr)
    assert used == {v.name for v in Verdict}, "a Verdict no grader produces, or a typo"


def test_every_row_has_triggering_and_look_alike_tests_that_exist() -> None:
    for kind, line in _table_rows().items():
        cells = line.split(" | ")
        tests = cells[-1]
        assert "; not: " in tests, f"{kind}: no must-not-trigger test"
        for file, name in re.findall(r"`(test_\w+\.py)::(\w+)`", tests):
            # test basenames are unique across tests/ (pytest's default import mode)
            (path,) = (ROOT / "tests").rglob(file)
            source = path.read_text()
            assert re.search(rf"^def {name}\(", source, re.M), f"{kind}: {file}::{name}"
