"""Reading a data directory as it is written: the OTLP JSON Lines files of a running session,
tailed from remembered offsets (``swarmscope top``; the model is :mod:`.live_model`).

Each refresh lists ``<data_dir>/sdk/*.jsonl`` and ``<data_dir>/collector/*.jsonl`` and reads
only what was appended since the last one. A partial last line (a writer mid-append) waits for
its newline; a file that shrank or was replaced (rotation) is read again from its start.
Metric files are opened near their end (:data:`METRICS_TAIL_BYTES`): a live view needs the
last minutes of samples, not a day's history; span files are read whole, since the agents'
names and tree come from their ``create_agent`` spans - also from the archives of rotated span
files (``traces.*.jsonl.zst``, read once, from where the file they hold was left off).

Telemetry is hostile input: a line longer than :data:`MAX_LINE_BYTES` is skipped whole, a line
that is not a JSON object (or nests too deep for the parser) is counted and skipped, and no
refresh reads more than :data:`MAX_READ_BYTES`, so a huge backlog is caught up over several
refreshes instead of freezing the view.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmscope import conventions as c
from swarmscope.archive import is_archive, open_archive, original_of, superseded

MAX_LINE_BYTES = 64 * 1024 * 1024
MAX_READ_BYTES = 32 * 1024 * 1024  # per refresh, over all files
METRICS_TAIL_BYTES = 4 * 1024 * 1024
SIGNALS = (c.SIGNAL_TRACES, c.SIGNAL_METRICS, c.SIGNAL_LOGS)
SPAN_ARCHIVE = ".jsonl" + c.ARCHIVE_SUFFIX  # traces.*.jsonl.zst: read for the agents' spans


def signal_of(path: Path) -> str | None:
    """``traces`` / ``metrics`` / ``logs`` from a file name (``traces.<host>.<pid>...jsonl``,
    the Collector's ``traces.jsonl``), else None."""
    head = path.name.split(".", 1)[0]
    return head if head in SIGNALS else None


@dataclass
class _Tail:
    """One file being followed."""

    path: Path
    signal: str
    inode: int = -1
    offset: int = 0
    partial: bytes = b""
    skipping: bool = False  # inside an over-long line: drop bytes until its newline
    archived: bool = False  # an archive: read once, whole (from ``offset``)

    def read(self, budget: int) -> tuple[list[bytes], int]:
        """Complete new lines (at most ``budget`` bytes read); returns (lines, bytes read)."""
        if self.archived:
            return self._read_archive()
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_ino != self.inode or info.st_size < self.offset:
                    self._restart(info)
                if info.st_size <= self.offset:
                    return [], 0
                handle.seek(self.offset)
                chunk = handle.read(min(budget, info.st_size - self.offset))
        except OSError:
            return [], 0
        self.offset += len(chunk)
        return self._split(chunk), len(chunk)

    def _read_archive(self) -> tuple[list[bytes], int]:
        if self.inode == 0:
            return [], 0  # read already: an archive does not change
        self.inode = 0
        try:
            with open_archive(self.path) as handle:
                handle.read(self.offset)  # forward only: what the file itself gave already
                chunk = handle.read(MAX_READ_BYTES)
        except (OSError, ValueError):
            return [], 0
        return self._split(chunk + b"\n"), len(chunk)

    def _restart(self, info: os.stat_result) -> None:
        """A new file at this path (or the first look): where to begin reading it."""
        self.inode, self.partial, self.skipping = info.st_ino, b"", False
        self.offset = 0
        if self.signal == c.SIGNAL_METRICS and info.st_size > METRICS_TAIL_BYTES:
            self.offset = info.st_size - METRICS_TAIL_BYTES
            self.skipping = True  # we start mid-line: the first complete line comes after it

    def _split(self, chunk: bytes) -> list[bytes]:
        data = self.partial + chunk
        lines = data.split(b"\n")
        self.partial = lines.pop()
        if self.skipping and lines:
            lines.pop(0)
            self.skipping = False
        if len(self.partial) > MAX_LINE_BYTES:
            self.partial, self.skipping = b"", True
        return [line for line in lines if line.strip()]


class LiveFiles:
    """Every telemetry file of one data directory, followed from refresh to refresh."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._tails: dict[Path, _Tail] = {}
        self.bad_lines = 0  # lines that were not a JSON object
        self.bytes_read = 0

    def files(self) -> list[Path]:
        found = []
        for sub in ("sdk", c.COLLECTOR_SUBDIR):
            try:
                names = os.listdir(self.data_dir / sub)
            except OSError:
                continue
            listed = set(names)
            for name in names:
                path = self.data_dir / sub / name
                if name.endswith(".jsonl") or (
                        signal_of(path) == c.SIGNAL_TRACES and name.endswith(SPAN_ARCHIVE)
                        and not superseded(path, listed)):
                    found.append(path)
        return sorted(p for p in found if signal_of(p))

    def poll(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(signal, document) for each complete line appended since the last poll; traces
        first, so the agents exist before their samples are attributed."""
        budget = MAX_READ_BYTES
        paths = self.files()
        for path in paths:
            if path not in self._tails:
                self._tails[path] = self._tail(path)
        for path in [p for p in self._tails if p not in set(paths)]:
            del self._tails[path]  # removed (pruned): forget it
        order = sorted(self._tails.values(), key=lambda t: SIGNALS.index(t.signal))
        for tail in order:
            if budget <= 0:
                break
            lines, used = tail.read(budget)
            budget -= used
            self.bytes_read += used
            for line in lines:
                document = self._parse(line)
                if document is not None:
                    yield tail.signal, document

    def _tail(self, path: Path) -> _Tail:
        if not is_archive(path):
            return _Tail(path, signal_of(path) or "")
        tail = _Tail(path, signal_of(path) or "", archived=True)
        followed = self._tails.get(original_of(path))
        if followed is not None:  # archived while followed: go on where it was left off
            tail.offset = followed.offset - len(followed.partial)
            tail.skipping = followed.skipping
        return tail

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        try:
            document = json.loads(line)
        except (ValueError, RecursionError, UnicodeDecodeError):
            self.bad_lines += 1
            return None
        if not isinstance(document, dict):
            self.bad_lines += 1
            return None
        return document


def attributes(items: Any) -> dict[str, Any]:
    """An OTLP JSON attribute list as a dict of plain values (ints from their string form;
    arrays and kvlists are left out: nothing live reads them)."""
    found: dict[str, Any] = {}
    if not isinstance(items, list):
        return found
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue
        value = item.get("value")
        if isinstance(value, dict):
            plain = scalar(value)
            if plain is not None:
                found[item["key"]] = plain
    return found


def scalar(value: dict[str, Any]) -> str | int | float | bool | None:
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            raw = value[kind]
            if kind == "intValue":
                return as_int(raw)
            if kind == "doubleValue":
                return as_float(raw)
            if kind == "boolValue":
                return raw if isinstance(raw, bool) else None
            return raw if isinstance(raw, str) else None
    return None


def as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) < 24:
        return int(raw)
    return None


def as_float(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and len(raw) < 40:
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def nanos(raw: Any) -> float | None:
    """An OTLP ``*UnixNano`` value (string or number) as epoch seconds."""
    value = as_int(raw)
    return value / 1e9 if value is not None and 0 < value < 2**63 else None
