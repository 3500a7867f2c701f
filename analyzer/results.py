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


class Verdict(StrEnum):
    """Every kind of finding that can flag a dimension or lower its grade.

    docs/grading.md has one row per member: what triggers it, the look-alikes that must not,
    and the tests that guard both (a test checks the table is complete).
    """

    MEMORY_LEAK = "memory.leak"
    MEMORY_UNRELEASED = "memory.unreleased"
    MEMORY_SYSTEM_PEAK = "memory.system_peak"
    MEMORY_INPROC_LEAK = "memory.inproc_leak"  # an in-process agent keeps memory run after run
    CPU_LOAD = "cpu.load"
    CPU_SPINNING = "cpu.spinning"
    CPU_EVENT_LOOP = "cpu.event_loop_delay"  # a Node.js process whose event loop is blocked
    GC_TIME_SHARE = "gc.time_share"
    GC_COLLECTED_RATE = "gc.collected_rate"
    GC_FULL_COLLECTIONS = "gc.full_collections_per_min"
    GC_UNCOLLECTABLE = "gc.uncollectable"
    PROCESSES_LEAK = "processes.leak"
    PROCESSES_FDS_UNRELEASED = "processes.fds_unreleased"
    PROCESSES_DUPLICATE_DAEMONS = "processes.duplicate_daemons"
    CLEANUP_ORPHAN = "cleanup.orphan"
    CLEANUP_ZOMBIE = "cleanup.zombie"
    CLEANUP_HUNG = "cleanup.hung"
    CLEANUP_UNTERMINATED = "cleanup.unterminated"
    CLEANUP_FD_EXCESS = "cleanup.fd_excess"
    CLEANUP_THREAD_EXCESS = "cleanup.thread_excess"
    CLEANUP_UNFINISHED_RUNS = "cleanup.unfinished_runs"  # in-process agent runs open at shutdown


@dataclass(kw_only=True)
class Finding:
    """One human-readable observation; ``recommendation`` is what to do about it, derived
    from the evidence. ``kind`` names the verdict of every finding that can flag."""

    text: str
    severity: Severity = Severity.INFO
    agent_id: str | None = None
    agent_name: str | None = None
    metric: str | None = None
    recommendation: str | None = None
    kind: Verdict | None = None


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
    parent_name: str | None = None  # who fails to reap a zombie (or init)
    zombie_seconds: float | None = None  # how long a zombie had waited for its reaper


@dataclass
class HungProcess:
    """A live process blocked reading a pipe or socket whose other end stays open, idle."""

    pid: int
    agent: str | None  # agent id
    agent_name: str | None
    waiting_on: str | None
    idle_seconds: float | None
    holder_pid: int | None = None


@dataclass
class DuplicateDaemons:
    """Several long-lived instances of one command alive at the same time."""

    command: str
    pids: list[int | None]
    overlap_seconds: float


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
    hung: list[HungProcess] = field(default_factory=list)
    duplicates: list[DuplicateDaemons] = field(default_factory=list)

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
class HelperGroup:
    """Helper processes of one name an agent ran (ps, sh -c, which ...), summed up."""

    name: str
    count: int
    min_seconds: float | None
    max_seconds: float | None
    exits: dict[str, int] = field(default_factory=dict)  # exit code (or "running") -> count


@dataclass
class TreeNode:
    """One row of the process tree: a process, or ``count`` alike short siblings in one."""

    name: str
    pid: int | None
    agent_id: str | None
    role: str  # agent | helper
    start_s: float | None  # seconds since the session start
    seconds: float | None  # lifetime (None: unknown start)
    ended: str  # how it ended, in words
    marks: list[str] = field(default_factory=list)  # orphan, zombie, hung, running
    children: list[TreeNode] = field(default_factory=list)
    count: int = 1
    min_seconds: float | None = None  # of an aggregated row
    max_seconds: float | None = None


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
    role: str = "agent"
    parent_pid: int | None = None
    started_by: str | None = None  # the agent that ran it; None: the session itself
    start_s: float | None = None  # seconds since the session start
    lifetime_s: float | None = None
    ended: str = ""  # how it ended, in words
    long_lived: bool = False
    helpers: list[HelperGroup] = field(default_factory=list)
    # in-process agents (kind inproc): pid is the process they run in
    cpu_seconds: float | None = None  # CPU of their runs' own steps
    runs: int | None = None  # finished runs
    retained: float | None = None  # net memory their runs kept, in retained_unit
    retained_unit: str | None = None  # {block} (cheap counters) or By (tracemalloc mode)


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
    shape: str = "classic"  # classic (all spawn, all terminate) | rolling
    phase_notes: list[str] = field(default_factory=list)  # plain sentences where phases do not fit
    population: dict[str, Any] = field(default_factory=dict)  # long- / short-lived summaries
    tree: list[TreeNode] = field(default_factory=list)
    session_helpers: list[HelperGroup] = field(default_factory=list)  # helpers of no agent
    start_ns: int | None = None
    end_ns: int | None = None
    config_source: str = "defaults"
    alerts: list[Any] = field(default_factory=list)  # report_alerts.AlertRow, as raised live
    windows: list[Any] = field(default_factory=list)  # window.WindowGrade per --window

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
