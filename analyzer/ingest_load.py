"""Loading one group of file regions into the model's tables, in one transaction.

The new complete lines are parsed by DuckDB's read_json with the explicit structure of
``sql/ingest_shape.sql`` and flattened by ``sql/ingest_*.sql``. Each group lands in one
transaction together with the files' new offsets, so an interrupted or repeated run never
stores a row twice. Lines that cannot be read are recorded in ``ingest_errors`` with file,
line and reason; the rest of the file lands.
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import zstandard
from swarmscope import conventions as C
from swarmscope.archive import unpack

from . import db, ingest_arrow
from .db_errors import hint, is_fatal
from .ingest_careful import read_careful
from .ingest_files import Batch, cut_short
from .ingest_json import dumps_compact, loads
from .ingest_results import IngestError, IngestSummary, LineError

JOIN_BELOW_BYTES = 4 * 1024 * 1024  # smaller files of a group are read as one joined file
_SIGNAL_WORDS = (C.SIGNAL_TRACES, C.SIGNAL_METRICS, C.SIGNAL_LOGS)


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Give a connection the OTLP shape, the flattening macros and the ingest settings."""
    for name in ("ingest_shape", "ingest_macros", "ingest_values_docs", "ingest_values",
                 "ingest_connection"):
        con.execute(_sql(name))


def _sql(name: str) -> str:
    return db.load_sql(name)


def ingest_group(
    con: duckdb.DuckDBPyConnection,
    group: list[Batch],
    summary: IngestSummary,
    lock: threading.Lock,
    scratch: Path,
    arrow: bool = True,
) -> bool:
    """Ingest a group of files in one transaction; if that fails, each half on its own
    (so one bad file among many costs a few retries, not one run per file). False when (a
    file of) the group could not be ingested. Raises IngestError when the disk, not a
    file, is at fault (full, read-only): then every other group would fail too.

    Temporary copies go to ``scratch`` (inside the data directory, emptied by each run),
    so a run killed midway leaves nothing behind for long. The Arrow reader
    (``ingest_arrow``) takes the group when it can (``arrow``), the SQL reader otherwise."""
    errors: list[LineError] = []
    loaded = None
    try:
        with tempfile.TemporaryDirectory(prefix="group-", dir=scratch) as tmp:
            staged = [_stage(b, Path(tmp), i, errors) for i, b in enumerate(group)]
            loaded = _load_arrow(con, staged) if arrow else None
            if loaded is None:
                # Read outside the transaction: a failed fast read must not abort it.
                con.execute(_sql("ingest_tables"))
                _read_group(con, staged, Path(tmp), errors)
                con.execute(_sql("ingest_values_docs"))
                con.execute(_sql("ingest_res_docs"))
        lines = [st.lines for st in staged]
        # Resources on their own (serialised, so two groups never add the same one): a
        # resource without rows is harmless if the transaction below fails.
        with lock:
            new_resources = con.execute(_sql("ingest_resources")).fetchone()[0]
        if loaded:
            ingest_arrow.register_records(con, loaded)
        con.execute(_sql("ingest_items_arrow" if loaded else "ingest_items_docs"))
        con.begin()
        try:
            added = _load_rows(con, errors) if loaded is None else _load_arrow_rows(con, loaded)
            now = datetime.now(UTC).replace(tzinfo=None)
            _save_errors(con, errors, now)
            signals = _signals(con) if loaded is None else loaded.signals
            _save_states(con, group, lines, signals, now)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    except ingest_arrow.Refused:
        return ingest_group(con, group, summary, lock, scratch, arrow=False)
    except (duckdb.Error, OSError, ValueError, zstandard.ZstdError) as exc:
        if is_fatal(exc):
            raise IngestError(f"ingest stopped: {hint(exc)}") from None
        if len(group) > 1:
            half = len(group) // 2
            results = [ingest_group(con, part, summary, lock, scratch, arrow)
                       for part in (group[:half], group[half:])]
            return all(results)
        with lock:
            summary.errors.append(
                LineError(str(group[0].path), None, f"file not ingested: {exc}"))
        return False
    finally:
        ingest_arrow.unload(con)
        con.execute(_sql("ingest_drop_tables"))
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

    batch: Batch
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


def _stage(batch: Batch, tmp: Path, index: int, errors: list[LineError]) -> _Staged:
    region = tmp / f"{index}.jsonl"
    source = _bytes_of(batch, tmp, index, errors)
    if batch.format == "document":
        data = (dumps_compact(loads(source.read_bytes())) + "\n").encode()
        region.write_bytes(data)
        return _Staged(batch, region, data, 1, True)
    with source.open("rb") as fh:
        fh.seek(batch.start)
        data = fh.read(batch.size)
    whole_file = not (batch.start or batch.end != source.stat().st_size)
    if not data.endswith(b"\n"):
        data += b"\n"
        whole_file = False
    if not whole_file:
        source = region
        source.write_bytes(data)
    blank = _has_blank_line(data)
    return _Staged(batch, source, data, data.count(b"\n"), not blank)


def _bytes_of(batch: Batch, tmp: Path, index: int, errors: list[LineError]) -> Path:
    """The file holding the batch's bytes: the file itself, or its archive unpacked (an
    archive cut short gives the lines it holds whole, and is reported)."""
    if batch.unpacked is not None:
        return batch.unpacked
    if batch.archive is None:
        return batch.path
    unpacked = tmp / f"{index}.unpacked"
    held = unpack(batch.archive, unpacked)
    if held < batch.end:
        errors.append(LineError(str(batch.archive), None, cut_short(held, batch.end)))
    return unpacked


def _load_arrow(
    con: duckdb.DuckDBPyConnection, staged: list[_Staged]
) -> ingest_arrow.Loaded | None:
    """The group's records registered by the Arrow reader, or None when the SQL reader
    must read it (lines read_json would number differently, or what ingest_arrow
    refuses). A document was staged as one compact line, as the SQL reader reads it."""
    if not all(st.clean for st in staged):
        return None
    regions = [ingest_arrow.Region(str(st.batch.path), st.batch.first_line, st.data, st.lines)
               for st in staged]
    try:
        return ingest_arrow.load(con, regions)
    except ingest_arrow.Refused:
        ingest_arrow.unload(con)
        return None


def _read_group(
    con: duckdb.DuckDBPyConnection, staged: list[_Staged], tmp: Path, errors: list[LineError]
) -> None:
    """Fill the batch tables (_docs) with the group's records.

    Clean JSON Lines (no blank lines: read_json skips them, which would shift the line
    numbers) of several files are joined into one file and read by one read_json; DuckDB
    reads one file in order much faster than many small ones. If read_json rejects that,
    each file is tried alone; a file it rejects, or one with blank lines, is read line by
    line.
    """
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


def _read_one(con: duckdb.DuckDBPyConnection, source: Path, staged: list[_Staged]) -> None:
    """Read ``source``, which holds the lines of ``staged`` one after the other."""
    starts = [0]
    for st in staged[:-1]:
        starts.append(starts[-1] + st.lines)
    con.execute(
        _sql("ingest_batch_files"),
        [str(source), [str(st.batch.path) for st in staged],
         [st.batch.first_line for st in staged], starts, [st.lines for st in staged]],
    )
    try:
        con.execute(_sql("ingest_read"), [str(source)])
    except duckdb.Error:
        con.execute(_sql("ingest_forget_read"), [str(source)])
        raise


def _read_careful(
    con: duckdb.DuckDBPyConnection, st: _Staged, tmp: Path, errors: list[LineError]
) -> None:
    region = tmp / f"careful-{id(st)}.jsonl"
    read_careful(con, st.batch.path, st.batch.first_line, st.data, region, errors)


def _load_rows(con: duckdb.DuckDBPyConnection, errors: list[LineError]) -> dict[str, int]:
    """Flatten _docs (resources already in _res) into the model's tables; report what could
    not be stored."""
    # Counting first is cheap (no flattening) and lets a signal the batch does not hold be
    # skipped: its statement would still scan and unnest the whole batch to add nothing.
    empty, spans, points, unknown, logs, warnings = con.execute(
        _sql("ingest_counts")).fetchone()
    held = {"spans": spans, "metric_points": points, "logs": logs}
    added = {}
    for table, name in (("spans", "ingest_spans"), ("metric_points", "ingest_metrics"),
                        ("logs", "ingest_logs")):
        added[table] = con.execute(_sql(name)).fetchone()[0] if held[table] else 0
    if (empty, unknown, warnings, spans, points, logs) != (
        0, 0, 0, added["spans"], added["metric_points"], added["logs"]
    ):
        for path, line_no, problem, n in con.execute(_sql("ingest_problems")).fetchall():
            suffix = f" ({n} records)" if n > 1 else ""
            errors.append(LineError(path, line_no, problem + suffix))
    return added


def _load_arrow_rows(
    con: duckdb.DuckDBPyConnection, loaded: ingest_arrow.Loaded
) -> dict[str, int]:
    """Flatten the Arrow reader's records into the model's tables. Every record was checked
    (ingest_arrow.load), so each must be stored; if not, the SQL reader reads the
    group again and says why."""
    added = {}
    for table, name in (("spans", "ingest_spans"), ("metric_points", "ingest_metrics"),
                        ("logs", "ingest_logs")):
        held = loaded.held[table]
        added[table] = con.execute(_sql(name)).fetchone()[0] if held else 0
        if added[table] != held:
            raise ingest_arrow.Refused(f"{table}: {added[table]} of {held} stored")
    return added


def _save_errors(con: duckdb.DuckDBPyConnection, errors: list[LineError], now: datetime) -> None:
    if errors:
        con.executemany(
            _sql("ingest_save_errors"),
            [(e.path, e.line, e.reason, now) for e in errors],
        )


def _save_states(
    con: duckdb.DuckDBPyConnection, group: list[Batch], lines: list[int],
    signals: dict[str, str], now: datetime,
) -> None:
    rows = [
        (str(b.path), b.state.generation, b.head_sha256, b.head_len, b.end,
         b.state.line_count + n, b.format, signals.get(str(b.path)),
         b.state.first_ingest.replace(tzinfo=None))
        for b, n in zip(group, lines, strict=True)
    ]
    con.execute(_sql("ingest_save_states"),
                [list(col) for col in zip(*rows, strict=True)] + [now])


def _signals(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """traces, metrics or logs per file by what it holds (mixed when more than one)."""
    out = {}
    for path, *found in con.execute(_sql("ingest_signals")).fetchall():
        kinds = [name for name, present in zip(_SIGNAL_WORDS, found, strict=True) if present]
        if kinds:
            out[path] = kinds[0] if len(kinds) == 1 else "mixed"
    return out
