"""Ingest OTLP JSON (Lines or single documents) into the DuckDB session model.

Each file is read from where the previous run stopped (byte offset of the last complete
line, checked against a fingerprint of the file's head). Its new complete lines are parsed by
DuckDB's read_json with the explicit structure from ``otlp.py`` and flattened by
``sql/ingest_*.sql``. Small files are loaded in groups, large ones in ~64 MB parts; each group
or part lands in one transaction together with the files' new offsets, so an interrupted or
repeated run never stores a row twice. Lines that cannot be read are recorded in
``ingest_errors`` with file, line and reason; the rest of the file lands.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from swarmscope import conventions as C
from swarmscope.analyzer import db, otlp

HEAD_BYTES = 4096  # how much of a file's beginning identifies it
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # larger files are only read as JSON Lines
MAX_LINE_BYTES = 512 * 1024 * 1024
GROUP_BYTES = 64 * 1024 * 1024  # files are loaded together up to this many bytes
GROUP_FILES = 256
JOIN_BELOW_BYTES = 4 * 1024 * 1024  # smaller files of a group are read as one joined file
WORKERS = max(1, min(4, os.cpu_count() or 1))  # groups ingested side by side
TABLES = ("resources", "spans", "metric_points", "logs")
_SIGNAL_WORDS = (C.SIGNAL_TRACES, C.SIGNAL_METRICS, C.SIGNAL_LOGS)


class IngestError(Exception):
    """A path that cannot be ingested at all (missing, unreadable)."""


@dataclass
class LineError:
    """A line (or a record on it) that could not be ingested."""

    path: str
    line: int | None
    reason: str

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


@dataclass
class _FileState:
    generation: int
    head_sha256: str
    head_len: int
    byte_offset: int
    line_count: int
    format: str
    first_ingest: datetime


@dataclass
class _Batch:
    """The part of one file to read now."""

    path: Path
    state: _FileState
    start: int  # byte offset the region starts at
    end: int  # byte offset after the region's last newline
    first_line: int  # line number of the region's first line (1-based)
    head_sha256: str
    head_len: int
    format: str

    @property
    def size(self) -> int:
        return self.end - self.start


def ingest(
    paths: Iterable[Path] | None,
    data_dir: Path,
    progress: bool | None = None,
) -> IngestSummary:
    """Read every OTLP JSON file under ``paths`` into ``<data_dir>/swarmscope.duckdb``.

    ``paths`` are files or directories (searched recursively for ``*.jsonl`` / ``*.json``);
    default: the data directory. ``progress`` shows a progress bar (default: when stderr is
    a terminal). Raises IngestError for a path that is missing or unreadable.
    """
    root = Path(data_dir)
    targets = [Path(p) for p in paths] if paths else [root]
    if not paths and not root.exists():
        raise IngestError(f"data directory {root} does not exist")
    files = sorted(set(_discover(targets)))
    summary = IngestSummary(files_seen=len(files))
    try:
        con = db.connect(root)
    except duckdb.IOException as exc:
        raise IngestError(f"cannot open {db.database_path(root)}: {exc}") from exc
    try:
        _prepare(con)
        batches = []
        states = _load_states(con)
        for f in files:
            parts = _plan(states, f, summary)
            if not parts:
                summary.files_unchanged += 1
            batches.extend(parts)
        with _progress_bar(progress, sum(b.size for b in batches)) as advance:
            _run_jobs(con, _jobs(batches), summary, advance)
        summary.errors.sort(key=lambda e: (e.path, e.line or 0))
        if batches:
            # One checkpoint at the end instead of one every few groups: each checkpoint
            # costs more as the database grows. Until then the WAL holds the committed rows.
            con.execute("CHECKPOINT")
    finally:
        con.close()
    return summary


# --- discovery -------------------------------------------------------------------------------


def _discover(targets: list[Path]) -> Iterator[Path]:
    for target in targets:
        if not target.exists():
            raise IngestError(f"{target}: no such file or directory")
        if target.is_dir():
            if not os.access(target, os.R_OK | os.X_OK):
                raise IngestError(f"{target}: directory is not readable")
            for p in target.rglob("*"):
                if p.suffix in C.TELEMETRY_SUFFIXES and p.is_file():
                    yield p.resolve()
        else:
            if not os.access(target, os.R_OK):
                raise IngestError(f"{target}: file is not readable")
            yield target.resolve()


# --- planning: what is new in a file ---------------------------------------------------------


def _load_states(con: duckdb.DuckDBPyConnection) -> dict[str, _FileState]:
    rows = con.execute(
        "SELECT path, generation, head_sha256, head_len, byte_offset, line_count, format,"
        " first_ingest FROM ingested_files"
    ).fetchall()
    return {r[0]: _FileState(*r[1:]) for r in rows}


def _plan(
    states: dict[str, _FileState], path: Path, summary: IngestSummary
) -> list[_Batch]:
    """The region of ``path`` to read now, in chunks of about GROUP_BYTES (empty when
    nothing new is complete)."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES)
            state = states.get(str(path))
            if state is not None and not _same_file(fh, head, size, state):
                # Replaced or truncated: a new generation, read from the start; rows of the
                # earlier content stay (they were real data).
                state = _FileState(state.generation + 1, "", 0, 0, 0, "", state.first_ingest)
            if state is None:
                state = _FileState(0, "", 0, 0, 0, "", datetime.now(UTC))
            head_sha = hashlib.sha256(head).hexdigest()
            if state.format == "document":
                if size == state.byte_offset:
                    return []  # unchanged document
                # a rewritten document: read it again as a new generation
                state = _FileState(state.generation + 1, "", 0, 0, 0, "", state.first_ingest)
            fmt = state.format or _detect_format(fh, path, size)
            if fmt == "document":
                return [_Batch(path, state, 0, size, 1, head_sha, len(head), fmt)]
            end = _complete_end(fh, state.byte_offset, size)
            summary.pending_bytes += size - end
            if end <= state.byte_offset:
                return []
            whole = _Batch(path, state, state.byte_offset, end, state.line_count + 1, head_sha,
                           len(head), fmt)
            return _chunks(fh, whole)
    except OSError as exc:
        summary.errors.append(LineError(str(path), None, f"cannot read: {exc.strerror or exc}"))
        return []


def _chunks(fh, batch: _Batch) -> list[_Batch]:
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
        state = _FileState(batch.state.generation, batch.state.head_sha256,
                           batch.state.head_len, pos, line - 1, batch.state.format,
                           batch.state.first_ingest)
        parts.append(_Batch(batch.path, state, pos, cut, line, batch.head_sha256,
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


def _same_file(fh, head: bytes, size: int, state: _FileState) -> bool:
    if size < state.byte_offset or len(head) < state.head_len:
        return False
    return hashlib.sha256(head[: state.head_len]).hexdigest() == state.head_sha256


def _detect_format(fh, path: Path, size: int) -> str:
    """'jsonl' when the first line is a JSON object, else 'document' if the whole file is one
    (pretty-printed) JSON document, else 'jsonl' (and its bad lines get reported)."""
    fh.seek(0)
    first = fh.readline(MAX_LINE_BYTES)
    try:
        if isinstance(json.loads(first), dict):
            return "jsonl"
    except ValueError:
        pass
    if size <= MAX_DOCUMENT_BYTES:
        fh.seek(0)
        try:
            if isinstance(json.loads(fh.read()), dict):
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
    if last_nl_end == size:
        return size
    fh.seek(last_nl_end)
    tail = fh.read(size - last_nl_end)
    try:
        if isinstance(json.loads(tail), dict):
            return size
    except ValueError:
        pass
    return last_nl_end


# --- loading one batch -----------------------------------------------------------------------


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_sql("ingest_macros"))
    con.execute("SET checkpoint_threshold = '1TB'")  # this connection: checkpoint at the end


def _sql(name: str) -> str:
    return (
        db.load_sql(name)
        .replace("$COLUMNS", otlp.columns_sql())
        .replace("$DOCUMENT", otlp.structure_sql("document"))
        .replace("$ARRAY", otlp.structure_sql("array"))
        .replace("$KVLIST", otlp.structure_sql("kvlist"))
    )


def _jobs(batches: list[_Batch]) -> list[list[list[_Batch]]]:
    """Units of work, each a list of groups to ingest in order.

    Small files go through the SQL pipeline together in groups (its fixed cost is per run);
    the parts of a file split by _chunks form one job, in order, so the file's offset only
    ever moves forward."""
    parts_of: dict[Path, int] = {}
    for b in batches:
        parts_of[b.path] = parts_of.get(b.path, 0) + 1
    jobs: list[list[list[_Batch]]] = []
    chunked: dict[Path, list[list[_Batch]]] = {}
    group: list[_Batch] = []
    size = 0
    for batch in batches:
        if parts_of[batch.path] > 1:
            if batch.path not in chunked:
                chunked[batch.path] = []
                jobs.append(chunked[batch.path])
            chunked[batch.path].append([batch])
            continue
        group.append(batch)
        size += batch.size
        if size >= GROUP_BYTES or len(group) >= GROUP_FILES:
            jobs.append([group])
            group, size = [], 0
    if group:
        jobs.append([group])
    return jobs


def _run_jobs(
    con: duckdb.DuckDBPyConnection,
    jobs: list[list[list[_Batch]]],
    summary: IngestSummary,
    advance: Callable[[int], object],
) -> None:
    """Run the jobs, several at once on their own connections when there are several.

    Each group is still one transaction (its rows and its files' offsets), so running jobs
    side by side keeps every file all-or-nothing; the flattening SQL runs on one core per
    statement, so this is what uses the other cores.
    """
    lock = threading.Lock()

    def run(cur: duckdb.DuckDBPyConnection, job: list[list[_Batch]]) -> None:
        for group in job:
            ok = _ingest_group(cur, group, summary, lock)
            advance(sum(b.size for b in group))
            if not ok:
                break  # later parts of a file wait until this one can be read

    if len(jobs) <= 1 or WORKERS <= 1:
        for job in jobs:
            run(con, job)
        return
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []

    def work(job: list[list[_Batch]]) -> None:
        cur = getattr(local, "cursor", None)
        if cur is None:
            cur = local.cursor = con.cursor()
            _prepare(cur)
            with lock:
                cursors.append(cur)
        run(cur, job)

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for done in as_completed([pool.submit(work, job) for job in jobs]):
                done.result()
    finally:
        for cur in cursors:
            cur.close()


def _ingest_group(
    con: duckdb.DuckDBPyConnection,
    group: list[_Batch],
    summary: IngestSummary,
    lock: threading.Lock,
) -> bool:
    """Ingest a group of files in one transaction; if that fails, each file on its own.
    False when (a file of) the group could not be ingested."""
    errors: list[LineError] = []
    try:
        with tempfile.TemporaryDirectory(prefix="swarmscope-ingest-") as tmp:
            # Read outside the transaction: a failed fast read must not abort it.
            con.execute(_sql("ingest_tables"))
            lines = _read_group(con, group, Path(tmp), errors)
        # Resources on their own (serialised, so two groups never add the same one): a
        # resource without rows is harmless if the transaction below fails.
        with lock:
            new_resources = con.execute(_sql("ingest_resources")).fetchone()[0]
        con.execute("BEGIN TRANSACTION")
        try:
            added = _load_rows(con, errors)
            now = datetime.now(UTC).replace(tzinfo=None)
            _save_errors(con, errors, now)
            _save_states(con, group, lines, now)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except (duckdb.Error, OSError, ValueError) as exc:
        if len(group) > 1:
            results = [_ingest_group(con, [batch], summary, lock) for batch in group]
            return all(results)
        with lock:
            summary.errors.append(
                LineError(str(group[0].path), None, f"file not ingested: {exc}"))
        return False
    finally:
        con.execute("DROP VIEW IF EXISTS _docs")
        for temp in ("_lines", "_parsed", "_raw", "_batch_files", "_res"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    with lock:
        summary.paths_read.update(str(b.path) for b in group)
        summary.files_read = len(summary.paths_read)
        summary.bytes_read += sum(b.size for b in group)
        summary.lines_read += sum(lines)
        added["resources"] = new_resources
        for table, n in added.items():
            summary.rows_added[table] += n
        summary.errors.extend(errors)
    return True


@dataclass
class _Staged:
    """A batch ready for DuckDB: the file to read and the bytes it holds."""

    batch: _Batch
    source: Path  # the file itself, or a temp copy of the region
    data: bytes
    lines: int
    clean: bool  # no blank lines: read_json's row numbers are the line numbers


_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\r]*\n")


def _has_blank_line(data: bytes) -> bool:
    """Whether any line of ``data`` (which ends with a newline) is empty or only whitespace.

    The regex alone costs ~7 ms per MB, a sixth of the whole ingest. When every line
    starts with "{" (compact JSON Lines, the usual case) there is none, and two counts at
    memory speed show that."""
    if data[:1] == b"{" and data.count(b"\n{") == data.count(b"\n") - 1:
        return False
    return _BLANK_LINE.search(data) is not None


def _stage(batch: _Batch, tmp: Path, index: int) -> _Staged:
    region = tmp / f"{index}.jsonl"
    if batch.format == "document":
        doc = json.loads(batch.path.read_bytes())
        data = (json.dumps(doc, separators=(",", ":")) + "\n").encode()
        region.write_bytes(data)
        return _Staged(batch, region, data, 1, True)
    with batch.path.open("rb") as fh:
        fh.seek(batch.start)
        data = fh.read(batch.size)
    whole_file = not (batch.start or batch.end != batch.path.stat().st_size)
    if not data.endswith(b"\n"):
        data += b"\n"
        whole_file = False
    source = batch.path
    if not whole_file:
        source = region
        source.write_bytes(data)
    blank = _has_blank_line(data)
    return _Staged(batch, source, data, data.count(b"\n"), not blank)


def _read_group(
    con: duckdb.DuckDBPyConnection, group: list[_Batch], tmp: Path, errors: list[LineError]
) -> list[int]:
    """Fill the batch tables (_docs) with the group's records; return each batch's line count.

    Clean JSON Lines (no blank lines: read_json skips them, which would shift the line
    numbers) of several files are joined into one file and read by one read_json; DuckDB
    reads one file in order much faster than many small ones. If read_json rejects that,
    each file is tried alone; a file it rejects, or one with blank lines, is read line by
    line.
    """
    staged = [_stage(b, tmp, i) for i, b in enumerate(group)]
    clean = [st for st in staged if st.clean and len(st.data) >= JOIN_BELOW_BYTES]
    small = [st for st in staged if st.clean and len(st.data) < JOIN_BELOW_BYTES]
    careful = [st for st in staged if not st.clean]
    if len(small) > 1:
        joined = tmp / "group.jsonl"
        with joined.open("wb") as out:
            for st in small:
                out.write(st.data)
        try:
            _read_one(con, joined, small)
            small = []
        except duckdb.Error:
            pass  # some file does not fit: try each alone
        joined.unlink()
    for st in clean + small:
        try:
            _read_one(con, st.source, [st])
        except duckdb.Error:
            careful.append(st)
    for st in careful:
        _read_careful(con, st, tmp, errors)
    con.execute(_sql("ingest_line_map"))
    return [st.lines for st in staged]


def _read_one(con: duckdb.DuckDBPyConnection, source: Path, staged: list[_Staged]) -> None:
    """Read ``source``, which holds the lines of ``staged`` one after the other."""
    starts = [0]
    for st in staged[:-1]:
        starts.append(starts[-1] + st.lines)
    con.execute(
        "INSERT INTO _batch_files SELECT ?, unnest(?::VARCHAR[]), unnest(?::BIGINT[]),"
        " unnest(?::BIGINT[]), unnest(?::BIGINT[]), NULL, NULL",
        [str(source), [str(st.batch.path) for st in staged],
         [st.batch.first_line for st in staged], starts, [st.lines for st in staged]],
    )
    try:
        con.execute(_sql("ingest_read"), [str(source)])
    except duckdb.Error:
        con.execute("DELETE FROM _batch_files WHERE read_path = ?", [str(source)])
        raise


def _read_careful(
    con: duckdb.DuckDBPyConnection, st: _Staged, tmp: Path, errors: list[LineError]
) -> None:
    batch = st.batch
    region = tmp / f"careful-{id(st)}.jsonl"
    if st.source == batch.path or not st.source.exists():
        region.write_bytes(st.data)
    else:
        region = st.source
    try:
        con.execute(_sql("ingest_lines"), [str(batch.path), batch.first_line, str(region)])
    except duckdb.Error:
        # Lines that are not UTF-8 stop the CSV reader: blank them out, report each, retry.
        con.execute("DELETE FROM _lines")
        region.write_bytes(_blank_undecodable(st.data, batch, errors))
        con.execute(_sql("ingest_lines"), [str(batch.path), batch.first_line, str(region)])
    con.execute(_sql("ingest_parse"))
    errors.extend(_unparsable_lines(con))
    con.execute("DELETE FROM _lines")


def _blank_undecodable(data: bytes, batch: _Batch, errors: list[LineError]) -> bytes:
    out = []
    for i, line in enumerate(data.split(b"\n")[:-1]):
        try:
            line.decode("utf-8")
            out.append(line)
        except UnicodeDecodeError as exc:
            errors.append(LineError(str(batch.path), batch.first_line + i,
                                    f"not UTF-8 text (byte {exc.start})"))
            out.append(b"")
    return b"\n".join(out) + b"\n"


def _load_rows(con: duckdb.DuckDBPyConnection, errors: list[LineError]) -> dict[str, int]:
    """Flatten _docs (resources already in _res) into the model's tables; report what could
    not be stored."""
    # Counting first is cheap (no flattening) and lets a signal the batch does not hold be
    # skipped: its statement would still scan and unnest the whole batch to add nothing.
    empty, spans, points, unknown, logs = con.execute(_sql("ingest_counts")).fetchone()
    held = {"spans": spans, "metric_points": points, "logs": logs}
    added = {}
    for table, name in (("spans", "ingest_spans"), ("metric_points", "ingest_metrics"),
                        ("logs", "ingest_logs")):
        added[table] = con.execute(_sql(name)).fetchone()[0] if held[table] else 0
    if (empty, unknown, spans, points, logs) != (
        0, 0, added["spans"], added["metric_points"], added["logs"]
    ):
        for path, line_no, problem, n in con.execute(_sql("ingest_problems")).fetchall():
            suffix = f" ({n} records)" if n > 1 else ""
            errors.append(LineError(path, line_no, problem + suffix))
    return added


def _unparsable_lines(con: duckdb.DuckDBPyConnection) -> list[LineError]:
    out = []
    rows = con.execute(
        "SELECT l.source_file, l.line_no, l.line FROM _lines l"
        " JOIN _parsed p USING (source_file, line_no) WHERE p.d IS NULL ORDER BY 1, 2"
    ).fetchall()
    for path, line_no, text in rows:
        try:
            value = json.loads(text)
            reason = f"not a JSON object but {type(value).__name__}"
        except ValueError as exc:
            col = getattr(exc, "colno", None)
            msg = getattr(exc, "msg", str(exc))
            reason = f"invalid JSON: {msg}" + (f" at column {col}" if col else "")
        out.append(LineError(path, line_no, reason))
    return out


def _save_errors(con: duckdb.DuckDBPyConnection, errors: list[LineError], now: datetime) -> None:
    if errors:
        con.executemany(
            "INSERT INTO ingest_errors VALUES (?, ?, ?, ?)",
            [(e.path, e.line, e.reason, now) for e in errors],
        )


def _save_states(
    con: duckdb.DuckDBPyConnection, group: list[_Batch], lines: list[int], now: datetime
) -> None:
    signals = _signals(con)
    rows = [
        (str(b.path), b.state.generation, b.head_sha256, b.head_len, b.end,
         b.state.line_count + n, b.format, signals.get(str(b.path)),
         b.state.first_ingest.replace(tzinfo=None))
        for b, n in zip(group, lines, strict=True)
    ]
    # One statement for the whole group (a prepared insert per file costs ~2 ms each).
    con.execute(
        "INSERT OR REPLACE INTO ingested_files SELECT unnest(?::VARCHAR[]),"
        " unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),"
        " unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),"
        " unnest(?::TIMESTAMP[]), ?::TIMESTAMP",
        [list(col) for col in zip(*rows, strict=True)] + [now],
    )


def _signals(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """traces, metrics or logs per file by what it holds (mixed when more than one)."""
    out = {}
    for path, *found in con.execute(
        "SELECT source_file, bool_or(resourceSpans IS NOT NULL),"
        " bool_or(resourceMetrics IS NOT NULL), bool_or(resourceLogs IS NOT NULL)"
        " FROM _docs GROUP BY source_file"
    ).fetchall():
        kinds = [name for name, present in zip(_SIGNAL_WORDS, found, strict=True) if present]
        if kinds:
            out[path] = kinds[0] if len(kinds) == 1 else "mixed"
    return out


# --- progress --------------------------------------------------------------------------------


class _progress_bar:
    """A rich progress bar over bytes, shown only when asked (default: stderr is a TTY)."""

    def __init__(self, show: bool | None, total: int) -> None:
        from rich.console import Console

        console = Console(stderr=True)
        self._show = console.is_terminal if show is None else show
        self._total = total
        self._console = console
        self._progress = None

    def __enter__(self):
        if not self._show or self._total == 0:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), console=self._console, transient=True,
        )
        self._progress.start()
        task = self._progress.add_task("ingest", total=self._total)
        return lambda n: self._progress.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
