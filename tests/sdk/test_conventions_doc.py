"""docs/conventions.md documents every public name of swarmscope.conventions."""

from __future__ import annotations

import enum
from pathlib import Path

from swarmscope import conventions

DOC = Path(__file__).resolve().parents[2] / "docs" / "conventions.md"


def _public_names() -> list[str]:
    names = []
    for name, value in vars(conventions).items():
        if name.startswith("_") or name in ("annotations", "StrEnum"):
            continue
        if isinstance(value, str | int | float | tuple | dict) or (
            isinstance(value, type) and issubclass(value, enum.Enum)
        ) or callable(value):
            names.append(name)
    return names


def test_every_convention_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in _public_names() if f"`{name}" not in text]
    assert not missing, f"add these to docs/conventions.md: {missing}"


def test_every_metric_has_a_documented_unit() -> None:
    text = DOC.read_text()
    for metric, unit in conventions.UNITS.items():
        assert f"`{metric}`" in text and unit in text
