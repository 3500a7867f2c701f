"""Which files to ingest and which part of each is new.

Each file is read from where the previous run stopped (byte offset of the last complete
line, checked against a fingerprint of the file's head). A file that was replaced or
truncated starts a new generation from its beginning; a large new region is cut at line
boundaries into parts of about GROUP_BYTES.

An archive (``<file>.zst``, swarmscope.archive) is read as the file it holds, under that
file's path: where ingest stopped in the file before it was archived, it goes on in the
archive. An archive it holds whole costs a look at its frame header and head; one with new
data is unpacked as it is read (into the scratch directory). While both exist (archiving in
progress), the file is read and the archive is not.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import zstandard
from swarmscope.archive import (
    archive_of,
    is_archive,
    is_telemetry,
    open_archive,
    original_of,
    original_size,
    superseded,
    unpack,
)

from . import db
from .ingest_json import loads
from .ingest_results import IngestError, IngestSummary, LineError

HEAD_BYTES = 4096  # how much of a file's beginning identifies it
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # larger files are only read as JSON Lines
MAX_LINE_BYTES = 512 * 1024 * 1024
GROUP_BYTES = 64 * 1024 * 1024  # files are loaded together up to this many bytes
SCRATCH_DIR = ".ingest-tmp"  # temporary copies, inside the data directory (never read as data)


@dataclass
class FileState:
    generation: int
    head_sha256: str
    head_len: int
    byte_offset: int
    line_count: int
    format: str
    first_ingest: datetime


@dataclass
class Batch:
    """The part of one file to read now."""

    path: Path
    state: FileState
    start: int  # byte offset the region starts at
    end: int  # byte offset after the region's last newline
    first_line: int  # line number of the region's first line (1-based)
    head_sha256: str
    head_len: int
    format: str
    archive: Path | None = None  # the archive holding the file, unpacked as it is read
    unpacked: Path | None = None  # an archive's content, in the scratch directory

    @property
    def size(self) -> int:
        return self.end - self.start


# --- discovery -------------------------------------------------------------------------------


def discover(targets: list[Path], errors: list[LineError]) -> Iterator[Path]:
    """The regular files to read: each target that is a file, and every ``*.jsonl`` /
    ``*.json`` (or archive of one) under each directory. A named target that is missing,
    unreadable or not a regular file (a FIFO would block, /dev/zero never ends) raises
    IngestError; inside a directory, such entries (and symlink loops, unreadable
    subdirectories) are reported in ``errors`` and skipped."""
    for target in targets:
        try:
            st = target.stat()
        except OSError as exc:
            raise IngestError(f"{target}: {_why(exc)}") from None
        if stat.S_ISDIR(st.st_mode):
            if not os.access(target, os.R_OK | os.X_OK):
                raise IngestError(f"{target}: directory is not readable")
            yield from _walk(target, errors)
            continue
        if not stat.S_ISREG(st.st_mode):
            raise IngestError(f"{target}: not a regular file ({_kind(st.st_mode)})")
        if not os.access(target, os.R_OK):
            raise IngestError(f"{target}: file is not readable")
        yield target.resolve()


def _walk(top: Path, errors: list[LineError]) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:
        errors.append(LineError(str(exc.filename or top), None,
                                f"directory not read: {_why(exc)}"))

    for folder, dirs, names in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d != SCRATCH_DIR)
        listed = set(names)
        for name in sorted(names):
            p = Path(folder, name)
            if not is_telemetry(p) or superseded(p, listed):
                continue  # not telemetry; an archive whose file is still there (read that)
            try:
                st = p.stat()
            except OSError as exc:  # a dangling link, a link loop
                errors.append(LineError(str(p), None, f"not read: {_why(exc)}"))
                continue
            if stat.S_ISREG(st.st_mode):
                yield p.resolve()
            elif not stat.S_ISDIR(st.st_mode):
                errors.append(LineError(str(p), None,
                                        f"not read: not a regular file ({_kind(st.st_mode)})"))


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


# --- planning: what is new in a file ---------------------------------------------------------


def load_states(con: duckdb.DuckDBPyConnection) -> dict[str, FileState]:
    rows = con.execute(db.load_sql("ingest_file_states")).fetchall()
    return {r[0]: FileState(*r[1:]) for r in rows}


def plan(
    states: dict[str, FileState], path: Path, summary: IngestSummary, scratch: Path
) -> list[Batch] | None:
    """The region of ``path`` to read now, in chunks of about GROUP_BYTES (empty when
    nothing new is complete; None, reported in ``summary``, when it cannot be read)."""
    try:
        if is_archive(path):
            return _plan_archive(states, path, summary, scratch)
        try:
            return _plan_file(states, path, path, summary)
        except FileNotFoundError:
            if not archive_of(path).exists():
                raise
            return _plan_archive(states, archive_of(path), summary, scratch)  # archived meanwhile
    except (OSError, ValueError, zstandard.ZstdError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        summary.errors.append(LineError(str(path), None, f"cannot read: {why}"))
        return None


def _plan_archive(states: dict[str, FileState], path: Path, summary: IngestSummary,
                  scratch: Path) -> list[Batch]:
    """An archive, planned as the file it holds. Its content is unpacked when it is read
    (``Batch.archive``); only one too large for one part is unpacked now, to be cut."""
    original, size = original_of(path), original_size(path)
    with open_archive(path) as fh:
        head = fh.read(HEAD_BYTES)
    state = _current_state(states, original, head, size)
    if size <= state.byte_offset:
        return []  # held whole already (the usual case: archived after it was read)
    fmt = state.format or ("jsonl" if _first_line_is_object(path) else "")
    if size > GROUP_BYTES or not fmt:  # to be cut into parts, or its format to be told
        unpacked = scratch / f"unpacked-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
        held = unpack(path, unpacked)
        if held < size:
            summary.errors.append(LineError(str(path), None, cut_short(held, size)))
        parts = _plan_file(states, original, unpacked, summary)
        for part in parts:
            part.unpacked = unpacked
        return parts
    start = 0 if fmt == "document" else state.byte_offset
    first = 1 if fmt == "document" else state.line_count + 1
    return [Batch(original, state, start, size, first, hashlib.sha256(head).hexdigest(),
                  len(head), fmt, archive=path)]


def cut_short(held: int, size: int) -> str:
    return (f"archive cut short: it holds {held} of the {size} bytes its header states "
            "(its whole lines were read)")


def _first_line_is_object(path: Path) -> bool:
    with open_archive(path) as fh:
        first = fh.readline(MAX_LINE_BYTES)
    try:
        return isinstance(loads(first), dict)
    except ValueError:
        return False


def _current_state(states: dict[str, FileState], path: Path, head: bytes,
                   size: int) -> FileState:
    """What ingest knows of ``path``, or a new generation when the file was replaced or
    truncated (rows of the earlier content stay: they were real data), or a document
    rewritten."""
    state = states.get(str(path))
    if state is None:
        return FileState(0, "", 0, 0, 0, "", datetime.now(UTC))
    if not _same_file(head, size, state) or (
            state.format == "document" and size != state.byte_offset):
        return FileState(state.generation + 1, "", 0, 0, 0, "", state.first_ingest)
    return state


def _plan_file(states: dict[str, FileState], path: Path, source: Path,
               summary: IngestSummary) -> list[Batch]:
    """Plan ``path`` (the key of its state) from the bytes of ``source``."""
    with source.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(HEAD_BYTES)
        state = _current_state(states, path, head, size)
        if state.format == "document" and size == state.byte_offset:
            return []  # unchanged document
        head_sha = hashlib.sha256(head).hexdigest()
        fmt = state.format or _detect_format(fh, path, size)
        if fmt == "document":
            return [Batch(path, state, 0, size, 1, head_sha, len(head), fmt)]
        end = _complete_end(fh, state.byte_offset, size)
        summary.pending_bytes += size - end
        if end <= state.byte_offset:
            return []
        whole = Batch(path, state, state.byte_offset, end, state.line_count + 1, head_sha,
                       len(head), fmt)
        return _chunks(fh, whole)


def _chunks(fh, batch: Batch) -> list[Batch]:
    """Split a large region at line boundaries into parts of about GROUP_BYTES, so a big
    Collector file never has to be held in memory whole. Each part knows the line number
    it starts at and the file's line count before it."""
    if batch.size <= GROUP_BYTES:
        return [batch]
    parts = []
    pos, line = batch.start, batch.first_line
    while pos < batch.end:
        fh.seek(pos)
        data = fh.read(min(GROUP_BYTES, batch.end - pos))
        cut = pos + len(data)
        if cut < batch.end:
            tail = data.rfind(b"\n")
            if tail < 0:  # one line longer than a part: extend to its end
                cut = _next_line_end(fh, cut, batch.end)
                fh.seek(pos)
                data = fh.read(cut - pos)
            else:
                data = data[: tail + 1]
                cut = pos + tail + 1
        state = FileState(batch.state.generation, batch.state.head_sha256,
                           batch.state.head_len, pos, line - 1, batch.state.format,
                           batch.state.first_ingest)
        parts.append(Batch(batch.path, state, pos, cut, line, batch.head_sha256,
                            batch.head_len, batch.format))
        line += data.count(b"\n")
        pos = cut
    return parts


def _next_line_end(fh, pos: int, end: int) -> int:
    fh.seek(pos)
    while pos < end:
        block = fh.read(min(1 << 20, end - pos))
        nl = block.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(block)
    return end


def _same_file(head: bytes, size: int, state: FileState) -> bool:
    if size < state.byte_offset or len(head) < state.head_len:
        return False
    return hashlib.sha256(head[: state.head_len]).hexdigest() == state.head_sha256


def _detect_format(fh, path: Path, size: int) -> str:
    """'jsonl' when the first line is a JSON object, else 'document' if the whole file is one
    (pretty-printed) JSON document, else 'jsonl' (and its bad lines get reported)."""
    fh.seek(0)
    first = fh.readline(MAX_LINE_BYTES)
    try:
        if isinstance(loads(first), dict):
            return "jsonl"
    except ValueError:  # also ingest_json.TooDeep
        pass
    if size <= MAX_DOCUMENT_BYTES:
        fh.seek(0)
        try:
            if isinstance(loads(fh.read()), dict):
                return "document"
        except ValueError:
            pass
    return "jsonl"


def _complete_end(fh, start: int, size: int) -> int:
    """Offset just after the last complete line at or after ``start``.

    A last line without a newline counts as complete only when it is a whole JSON object
    (some writers do not end the file with a newline); otherwise it is being written.
    """
    if size <= start:
        return start
    pos = size
    chunk = 1 << 16
    while pos > start:
        lo = max(start, pos - chunk)
        fh.seek(lo)
        buf = fh.read(pos - lo)
        nl = buf.rfind(b"\n")
        if nl >= 0:
            last_nl_end = lo + nl + 1
            break
        pos = lo
    else:
        last_nl_end = start
    if last_nl_end == size or size - last_nl_end > MAX_LINE_BYTES:
        return last_nl_end if last_nl_end != size else size  # a huge unfinished tail waits
    fh.seek(last_nl_end)
    tail = fh.read(size - last_nl_end)
    try:
        if isinstance(loads(tail), dict):
            return size
    except ValueError:
        pass
    return last_nl_end
