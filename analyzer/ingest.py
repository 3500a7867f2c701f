"""Ingest OTLP JSON (Lines or single documents) into the DuckDB session model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LineError:
    """A line that could not be ingested."""

    path: str
    line: int
    reason: str


@dataclass
class IngestSummary:
    """What one ingest run read, added and skipped."""

    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    lines_read: int = 0
    rows_added: dict[str, int] = field(
        default_factory=lambda: {"resources": 0, "spans": 0, "metric_points": 0, "logs": 0}
    )
    errors: list[LineError] = field(default_factory=list)

    @property
    def lines_skipped(self) -> int:
        return len(self.errors)


def ingest(paths: list[Path], data_dir: Path | None = None) -> IngestSummary:
    """Read every OTLP JSON file under ``paths`` into ``<data_dir>/swarmscope.duckdb``."""
    raise NotImplementedError("ingest is being written")
