"""The grading configuration: control points, weights, bands and verdict thresholds.

Everything grading decides by comes from ``control_points.toml``, merged with the user's
override file (only the keys it changes). Every key is checked against the defaults, so a
typo fails loudly with the file and dotted key in the message.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .scoring import log_normal_score

DIMENSIONS = ("memory", "cpu", "processes", "gc", "cleanup")


class ConfigError(ValueError):
    """A grading configuration that cannot be used; the message names the file and key."""


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    """Control points and weight of one graded figure."""

    dimension: str
    key: str
    p10: float
    median: float
    weight: float
    description: str = ""

    def score(self, value: float) -> float:
        return log_normal_score(value, self.p10, self.median)


@dataclass
class GradingConfig:
    """Everything grading reads from ``control_points.toml`` (after overrides)."""

    figures: dict[str, dict[str, FigureSpec]]
    dimension_weights: dict[str, float]
    bands: dict[str, float]
    assessment: dict[str, float]
    settle_seconds: float
    leaks: dict[str, Any]
    critical_cap: float = 69.0
    max_points: int = 20_000_000  # [points] max_graded: above it, points are read per step
    source: str = "defaults"
    # [thresholds.<dimension>]: the lines at which a finding becomes a warning or critical
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)

    def figure(self, dimension: str, key: str) -> FigureSpec:
        return self.figures[dimension][key]

    def threshold(self, dimension: str, key: str) -> float:
        """A verdict threshold from ``[thresholds.<dimension>]``."""
        return self.thresholds[dimension][key]


def default_config_text() -> str:
    return resources.files("swarmscope.analyzer").joinpath("control_points.toml").read_text()


def load_config(path: str | os.PathLike[str] | None = None) -> GradingConfig:
    """Defaults merged with the user's TOML at ``path`` (None: the defaults alone).

    The caller decides which file (the CLI: --config, else $SWARMSCOPE_CONFIG); the analyzer
    reads no environment variables. The user's file needs only the keys it changes; every key
    is checked against the defaults so a typo fails loudly with the file and dotted key.
    """
    defaults = tomllib.loads(default_config_text())
    source = "defaults"
    if path:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"{p}: grading configuration file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
        _merge(defaults, user, str(p), prefix="")
        source = str(p)
    return _build(defaults, source)


def _merge(base: dict[str, Any], override: dict[str, Any], origin: str, prefix: str) -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{origin}: unknown key {dotted!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {dotted!r} must be a table")
            _merge(base[key], value, origin, dotted + ".")
        else:
            if isinstance(value, dict):
                raise ConfigError(f"{origin}: {dotted!r} must be a value, not a table")
            base[key] = value


def _number(raw: dict[str, Any], key: str, origin: str, dotted: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{origin}: {dotted}.{key} must be a number, got {value!r}")
    return float(value)


def _build(raw: dict[str, Any], origin: str) -> GradingConfig:
    figures: dict[str, dict[str, FigureSpec]] = {}
    for dimension in DIMENSIONS:
        table = raw.get("figures", {}).get(dimension)
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: missing table figures.{dimension}")
        figures[dimension] = {}
        for key, spec in table.items():
            dotted = f"figures.{dimension}.{key}"
            p10 = _number(spec, "p10", origin, dotted)
            median = _number(spec, "median", origin, dotted)
            weight = _number(spec, "weight", origin, dotted)
            if p10 <= 0 or median <= 0:
                raise ConfigError(f"{origin}: {dotted}: p10 and median must be > 0")
            if p10 == median:
                raise ConfigError(f"{origin}: {dotted}: p10 and median must differ")
            if weight < 0:
                raise ConfigError(f"{origin}: {dotted}.weight must be >= 0")
            figures[dimension][key] = FigureSpec(
                dimension, key, p10, median, weight, str(spec.get("description", ""))
            )
    weights = {d: _number(raw["weights"], d, origin, "weights") for d in DIMENSIONS}
    if any(w < 0 for w in weights.values()):
        raise ConfigError(f"{origin}: weights must be >= 0")
    bands = {b: _number(raw["bands"], b, origin, "bands") for b in ("A", "B", "C", "D")}
    if not 100 >= bands["A"] > bands["B"] > bands["C"] > bands["D"] >= 0:
        raise ConfigError(f"{origin}: bands must satisfy 100 >= A > B > C > D >= 0")
    words = {w: _number(raw["assessment"], w, origin, "assessment")
             for w in ("excellent", "good", "moderate")}
    if not words["excellent"] > words["good"] > words["moderate"]:
        raise ConfigError(f"{origin}: assessment needs excellent > good > moderate")
    settle = _number(raw["phases"], "settle_seconds", origin, "phases")
    if settle < 0:
        raise ConfigError(f"{origin}: phases.settle_seconds must be >= 0")
    leaks = raw["leaks"]
    alpha = _number(leaks, "alpha", origin, "leaks")
    if not 0 < alpha < 1:
        raise ConfigError(f"{origin}: leaks.alpha must be between 0 and 1")
    warmup = _number(leaks, "warmup_fraction", origin, "leaks")
    if not 0 <= warmup < 1:
        raise ConfigError(f"{origin}: leaks.warmup_fraction must be in [0, 1)")
    cap = _number(raw["caps"], "critical_finding", origin, "caps")
    if not 0 <= cap <= 100:
        raise ConfigError(f"{origin}: caps.critical_finding must be within 0..100")
    max_points = _number(raw["points"], "max_graded", origin, "points")
    if max_points < 1000 or max_points != int(max_points):
        raise ConfigError(f"{origin}: points.max_graded must be a whole number >= 1000")
    thresholds = _thresholds(raw["thresholds"], origin)
    return GradingConfig(figures, weights, bands, words, settle, leaks, cap, int(max_points),
                         origin, thresholds)


def _thresholds(raw: dict[str, Any], origin: str) -> dict[str, dict[str, float]]:
    """Every ``[thresholds.<dimension>]`` value as a number >= 0; warning below critical."""
    out: dict[str, dict[str, float]] = {}
    for dimension, table in raw.items():
        out[dimension] = {}
        for key in table:
            value = _number(table, key, origin, f"thresholds.{dimension}")
            if value < 0:
                raise ConfigError(f"{origin}: thresholds.{dimension}.{key} must be >= 0")
            out[dimension][key] = value
    for dimension, table in out.items():
        for key, value in table.items():
            critical = key.removesuffix("_warning") + "_critical"
            if key.endswith("_warning") and critical in table and value >= table[critical]:
                raise ConfigError(f"{origin}: thresholds.{dimension}.{key} must be below "
                                  f"{critical}")
    return out
