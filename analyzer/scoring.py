"""Scores, grades and the result model of a graded session.

Every raw figure becomes a 0-100 score on a log-normal curve through two control points
(the Lighthouse method): the value that earns 90 (``p10``) and the value that earns 50
(``median``). When ``p10 < median`` lower values are better (memory share, load per core,
leak count); when ``p10 > median`` higher values are better. Dimension scores are weighted
means of their figures, the overall score a weighted mean of the dimensions. Control points,
weights and bands come from ``control_points.toml`` (overridable, see ``load_config``).
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from swarmscope.conventions import ENV_CONFIG

DIMENSIONS = ("memory", "cpu", "processes", "gc", "cleanup")
# erf^-1(0.8): puts the p10 control point exactly on a score of 90.
_P10_ERF = 0.9062


class ConfigError(ValueError):
    """A grading configuration that cannot be used; the message names the file and key."""


# --- the curve -------------------------------------------------------------------------------


def log_normal_score(value: float, p10: float, median: float) -> float:
    """Score 0-100 for ``value`` on the log-normal curve through (p10, 90) and (median, 50)."""
    if p10 <= 0 or median <= 0 or p10 == median:
        raise ValueError(f"control points need 0 < p10 != median, got p10={p10} median={median}")
    lower_is_better = p10 < median
    if value <= 0:
        # ln(0) is -inf: the best value for "lower is better", the worst otherwise.
        return 100.0 if lower_is_better else 0.0
    z = math.log(value / median) * _P10_ERF / -math.log(p10 / median)
    score = (1.0 - math.erf(z)) / 2.0 * 100.0
    return min(100.0, max(0.0, score))


def weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    """Weighted mean of (score, weight) pairs; None when nothing carries weight."""
    total = sum(w for _, w in pairs if w > 0)
    if total <= 0:
        return None
    return sum(s * w for s, w in pairs if w > 0) / total


# --- letters and words -----------------------------------------------------------------------

_LETTER_ORDER = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")


def letter_grade(score: float | None, bands: dict[str, float]) -> str:
    """A-F with +/-: within a 10-point band the top 3 points earn "+", the bottom 3 "-"."""
    if score is None:
        return "n/a"
    for letter in ("A", "B", "C", "D"):
        lower = bands[letter]
        if score >= lower:
            width = _band_width(letter, bands)
            if score >= lower + width * 0.7:
                return letter + "+"
            if score < lower + width * 0.3:
                return letter + "-"
            return letter
    return "F"


def _band_width(letter: str, bands: dict[str, float]) -> float:
    upper = {"A": 100.0, "B": bands["A"], "C": bands["B"], "D": bands["C"]}[letter]
    return max(upper - bands[letter], 1e-9)


def grade_rank(grade: str) -> int:
    """Order of a letter grade (F lowest); raises ValueError for an unknown grade."""
    grade = grade.strip().upper()
    if grade not in _LETTER_ORDER:
        raise ValueError(f"unknown grade {grade!r}; use one of {', '.join(_LETTER_ORDER)}")
    return _LETTER_ORDER.index(grade)


def meets_grade(score: float | None, minimum: str, bands: dict[str, float]) -> bool:
    """Whether a score reaches ``minimum``; a bare letter ("B") accepts the whole band (B-)."""
    if score is None:
        return False
    minimum = minimum.strip().upper()
    if len(minimum) == 1 and minimum != "F":
        minimum += "-"
    return grade_rank(letter_grade(score, bands)) >= grade_rank(minimum)


def assessment_word(score: float | None, words: dict[str, float]) -> str:
    """EXCELLENT / GOOD / MODERATE / POOR from the configured lower bounds."""
    if score is None:
        return "NOT MEASURED"
    for word in ("excellent", "good", "moderate"):
        if score >= words[word]:
            return word.upper()
    return "POOR"


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
    source: str = "defaults"

    def figure(self, dimension: str, key: str) -> FigureSpec:
        return self.figures[dimension][key]


def default_config_text() -> str:
    return resources.files("swarmscope.analyzer").joinpath("control_points.toml").read_text()


def load_config(path: str | os.PathLike[str] | None = None) -> GradingConfig:
    """Defaults merged with the user's TOML (``path``, else $SWARMSCOPE_CONFIG, else none).

    The user's file needs only the keys it changes; every key is checked against the defaults
    so a typo fails loudly with the file and dotted key in the message.
    """
    defaults = tomllib.loads(default_config_text())
    source = "defaults"
    path = path or os.environ.get(ENV_CONFIG) or None
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
    return GradingConfig(figures, weights, bands, words, settle, leaks, cap, origin)


# --- the result model ------------------------------------------------------------------------


@dataclass
class Finding:
    """One human-readable observation.

    severity: good (a strength), info, warning or critical (warning and critical flag the
    dimension). ``recommendation`` is what to do about it, derived from the evidence.
    """

    text: str
    severity: str = "info"
    agent_id: str | None = None
    agent_name: str | None = None
    metric: str | None = None
    recommendation: str | None = None


@dataclass
class Leak:
    """A series with a significant upward trend whose slope matters relative to its level."""

    agent_id: str | None
    agent_name: str | None
    pid: int | None
    metric: str
    slope: float  # units per second (Theil-Sen)
    p_value: float  # Mann-Kendall
    relative_growth: float  # growth over the analysed window / level
    level: float  # median of the analysed window
    samples: int


@dataclass
class LeftoverProcess:
    """A process still around after its agent terminated: orphan or zombie."""

    pid: int
    command: str | None
    agent: str | None  # agent id
    agent_name: str | None = None
    parent_pid: int | None = None
    age_seconds: float | None = None
    source: str = "audit"  # audit (span event) | metrics (sampled after terminate + settle)


@dataclass
class FigureScore:
    key: str
    label: str
    value: float
    display: str
    score: float
    weight: float


@dataclass
class DimensionGrade:
    name: str
    score: float | None
    grade: str
    assessment: str
    figures: list[FigureScore] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    not_measured: list[str] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    orphans: list[LeftoverProcess] = field(default_factory=list)
    zombies: list[LeftoverProcess] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Whether something here needs attention (a warning or critical finding)."""
        return any(f.severity in ("warning", "critical") for f in self.findings)


@dataclass
class PhaseRow:
    """One row of the metrics timeline."""

    phase: str
    ts_ns: int | None
    system_memory: float | None  # bytes used
    session_memory: float | None  # bytes RSS of the session's processes
    session_fds: float | None
    process_count: float | None
    event: str


@dataclass
class AgentSummary:
    agent_id: str
    name: str
    pid: int | None
    kind: str | None
    spawn_ns: int | None
    terminate_ns: int | None
    exit_code: int | None
    reason: str | None
    peak_rss: float | None = None
    rss_growth: float | None = None  # relative growth after warm-up
    cpu_cores: float | None = None  # median utilisation in cores
    peak_fds: float | None = None
    peak_threads: float | None = None


@dataclass
class SessionGrade:
    """The graded session: what every report renders."""

    session: str
    score: float | None
    grade: str
    assessment: str
    dimensions: dict[str, DimensionGrade]
    phases: list[PhaseRow] = field(default_factory=list)
    agents: list[AgentSummary] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=dict)
    not_measured: list[str] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)  # chart data for the HTML report
    start_ns: int | None = None
    end_ns: int | None = None
    config_source: str = "defaults"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
