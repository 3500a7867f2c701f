"""What an ingest run reports: its summary, the lines it skipped, and the error for a path
that cannot be read at all."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import escape

MAX_REASON_CHARS = 300
TABLES = ("resources", "spans", "metric_points", "logs")


class IngestError(Exception):
    """A path that cannot be ingested at all (missing, unreadable)."""


@dataclass
class LineError:
    """A line (or a record on it) that could not be ingested."""

    path: str
    line: int | None
    reason: str

    def __post_init__(self) -> None:
        # Reasons quote telemetry: no control byte or escape code reaches a terminal or the
        # ingest_errors table raw, and no reason runs to kilobytes.
        self.path = escape.control(self.path)
        self.reason = escape.reason(self.reason, MAX_REASON_CHARS)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass
class IngestSummary:
    """What one ingest run read, added and skipped."""

    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    bytes_read: int = 0
    lines_read: int = 0
    pending_bytes: int = 0  # an incomplete last line, left for the next run
    rows_added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    errors: list[LineError] = field(default_factory=list)
    paths_read: set[str] = field(default_factory=set, repr=False)

    @property
    def lines_skipped(self) -> int:
        """Lines (or records on a line) that were reported instead of stored."""
        return len(self.errors)

    @property
    def total_rows(self) -> int:
        return sum(self.rows_added.values())
