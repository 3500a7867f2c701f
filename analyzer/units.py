"""How figures are written in findings and reports."""

from __future__ import annotations

MIB = 1024 * 1024
NS = 1_000_000_000  # nanoseconds per second: OTLP times are ns


def mib(value: float | None) -> str:
    """Bytes as MiB with one decimal, ``n/a`` for no value."""
    return "n/a" if value is None else f"{value / MIB:,.1f} MiB"


def pct(value: float | None) -> str:
    """A share (0..1) as a percentage with one decimal, ``n/a`` for no value."""
    return "n/a" if value is None else f"{value * 100:.1f} %"
