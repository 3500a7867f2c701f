"""The result model of a graded session: findings, leaks, leftovers, dimension grades.

Reports render these; nothing here computes anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters. The values are the strings the JSON report carries."""

    GOOD = "good"  # a strength
    INFO = "info"  # context, no judgement
    WARNING = "warning"  # needs attention: flags the dimension
    CRITICAL = "critical"  # a leak, orphan or zombie: flags and caps the dimension

    @property
    def flags(self) -> bool:
        """Whether a finding of this severity needs attention."""
        return self in (Severity.WARNING, Severity.CRITICAL)


@dataclass(kw_only=True)
class Finding:
    """One human-readable observation; ``recommendation`` is what to do about it, derived
    from the evidence."""

    text: str
    severity: Severity = Severity.INFO
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
        return any(f.severity.flags for f in self.findings)


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
