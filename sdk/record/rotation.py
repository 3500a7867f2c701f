"""Size- and age-rotated JSON Lines files for the embedded default exporters.

The official ``opentelemetry-exporter-otlp-json-file`` exporter writes one whole line per
``write()`` call (then flushes) on a stream we may hand it. :class:`RotatingFile` is that
stream: before a line that would take the current file past its size limit, or once the file
is older than its age limit, it closes the file and opens the next one. A rotation therefore
happens only between lines, so no line is split, lost or written twice.

Names keep the sdk's pattern: the first file is ``<signal>.<host>.<pid>.<start_ns>.jsonl``,
the following ones ``<signal>.<host>.<pid>.<start_ns>.r000001.jsonl`` and so on. ``r`` sorts
after ``j``, so plain name order is write order. A closed file is never renamed; it is
archived (``<file>.zst``, :mod:`swarmscope.archive`) in a background thread when ``archive``
is on, and ingest reads an archive as the file it holds, keyed by the same path, so nothing is
read twice. An archive cut short by the process's exit leaves the file itself in place. At
close, the last file is archived too once the stream has rotated (a short session's single
file stays plain).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.json.file import FileMetricExporter, FileSpanExporter
from swarmscope.archive import archive

logger = logging.getLogger("swarmscope")
ARCHIVE_WAIT_AT_CLOSE_S = 2.0


def rotated_name(first: Path, sequence: int) -> Path:
    """The ``sequence``-th file after ``first`` (0 is ``first`` itself)."""
    if sequence == 0:
        return first
    return first.with_name(f"{first.stem}.r{sequence:06d}{first.suffix}")


class RotatingFile:
    """A text stream that moves to the next file by size (bytes) and age (seconds); 0 = off."""

    def __init__(self, first: Path, max_bytes: int, max_age_s: float,
                 archive: bool = False) -> None:
        self.first = first
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.archive = archive
        self.archivers: list[threading.Thread] = []
        self.sequence = 0
        self._lock = threading.Lock()  # the exporter locks too; this guards direct callers
        self._open(first)

    def _open(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._size = self._file.tell()
        self._opened = time.monotonic()

    def _due(self, incoming: int) -> bool:
        if self._size == 0:
            return False  # never leave an empty file behind
        if self.max_bytes and self._size + incoming > self.max_bytes:
            return True
        return bool(self.max_age_s) and time.monotonic() - self._opened >= self.max_age_s

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        with self._lock:
            if self._due(len(data)):
                self._file.close()
                if self.archive:
                    self._archive_later(self.path)
                self.sequence += 1
                self._open(rotated_name(self.first, self.sequence))
            self._file.write(text)
            self._size += len(data)
        return len(text)

    def _archive_later(self, path: Path) -> None:
        """Archive a closed file off the exporter's thread (~0.1 s of CPU for 16 MB)."""
        self.archivers = [t for t in self.archivers if t.is_alive()]
        worker = threading.Thread(target=_archive, args=(path,), name="swarmscope-archive",
                                  daemon=True)
        worker.start()
        self.archivers.append(worker)

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        with self._lock:
            if self._file.closed:
                return
            self._file.close()
            if self.archive and self.sequence:
                # a session long enough to rotate leaves archives only: its last file would
                # otherwise stay raw for good (up to the size limit: in a simulated day,
                # 11.7 MB per process beside 17.8 MB of archives). A short session's one file
                # stays as it is.
                _archive(self.path)
        # archives still being written get a moment to finish (an unfinished one leaves its
        # file in place, so waiting is for tidiness, not for data)
        deadline = time.monotonic() + ARCHIVE_WAIT_AT_CLOSE_S
        for worker in self.archivers:
            worker.join(max(0.0, deadline - time.monotonic()))


class _ClosesItsStream:
    """Mixed into an official file exporter: it writes to a :class:`RotatingFile` and closes
    that file at shutdown (the exporter leaves a stream it was given open)."""

    def __init__(self, stream: RotatingFile) -> None:
        super().__init__(stream=stream)  # type: ignore[call-arg]
        self.stream = stream

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        super().shutdown(timeout_millis, **kwargs)  # type: ignore[misc]
        self.stream.close()


class RotatingSpanExporter(_ClosesItsStream, FileSpanExporter):
    """The official span file exporter on a :class:`RotatingFile`."""


class RotatingMetricExporter(_ClosesItsStream, FileMetricExporter):
    """The official metric file exporter on a :class:`RotatingFile`."""


def _archive(path: Path) -> None:
    try:
        archive(path)
    except Exception as error:  # the file stays as it is: nothing is lost, nothing raised
        logger.warning("swarmscope: could not archive %s: %s", path, error)
