"""Ingest OTLP JSON (Lines or single documents) into the DuckDB session model.

The run: find the files and what is new in each (``ingest_files``), cut that into jobs, load
each group of regions in one transaction (``ingest_load``), several jobs side by side, and
report what was read, added and skipped (``ingest_results``). Each file is read from where
the previous run stopped, so an interrupted or repeated run never stores a row twice. Small
files are loaded in groups, large ones in ~64 MB parts.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import duckdb

from . import db
from .db_errors import DatabaseError, hint, is_fatal
from .ingest_files import GROUP_BYTES, SCRATCH_DIR, Batch, discover, load_states, plan
from .ingest_load import ingest_group, prepare
from .ingest_results import TABLES, IngestError, IngestSummary, LineError

__all__ = ["TABLES", "IngestError", "IngestSummary", "LineError", "ingest"]

GROUP_FILES = 256  # at most this many files in one group
WORKERS = max(1, min(4, os.cpu_count() or 1))  # groups ingested side by side


def ingest(
    paths: Iterable[Path] | None,
    data_dir: Path,
    progress: bool | None = None,
    arrow: bool = True,
) -> IngestSummary:
    """Read every OTLP JSON file under ``paths`` into ``<data_dir>/swarmscope.duckdb``.

    ``paths`` are files or directories (searched recursively for ``*.jsonl`` / ``*.json``);
    default: the data directory. ``progress`` shows a progress bar (default: when stderr is
    a terminal). ``arrow=False`` leaves every group to the SQL reader (the tests and
    benchmarks compare the two readers). Raises IngestError for a path that is missing or
    cannot be read at all, and when the database cannot be written (held by another
    process, read-only, disk full).
    """
    root = Path(data_dir)
    targets = [Path(p) for p in paths] if paths else [root]
    if not paths and not root.exists():
        raise IngestError(f"data directory {root} does not exist")
    summary = IngestSummary()
    files = sorted(set(discover(targets, summary.errors)))
    summary.files_seen = len(files) + len(summary.errors)
    created = not db.database_path(root).exists()
    try:
        con = db.connect(root)
    except DatabaseError as exc:
        raise IngestError(str(exc)) from None
    try:
        try:
            _ingest_files(con, root, files, summary, progress, arrow)
        except (duckdb.Error, OSError) as exc:
            if not is_fatal(exc):
                raise
            raise IngestError(f"ingest stopped: {hint(exc)}") from None
    except IngestError:
        con.close()
        if created:  # its rows can be read again from the files; a broken file would block
            _remove_database(root)
        raise
    finally:
        con.close()
    return summary


def _remove_database(root: Path) -> None:
    """A first ingest that failed leaves no database behind to block the next run."""
    path = db.database_path(root)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _ingest_files(
    con: duckdb.DuckDBPyConnection, root: Path, files: list[Path], summary: IngestSummary,
    progress: bool | None, arrow: bool,
) -> None:
    scratch = root / SCRATCH_DIR
    # What a run killed midway left here goes now (this run holds the database's lock, so
    # no other ingest of this data directory is using it).
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        prepare(con)
        batches = []
        states = load_states(con)
        for f in files:
            parts = plan(states, f, summary, scratch)
            if parts is None:
                continue  # could not be read: reported
            if not parts:
                summary.files_unchanged += 1
            batches.extend(parts)
        with _progress_bar(progress, sum(b.size for b in batches)) as advance:
            _run_jobs(con, _jobs(batches), summary, advance, scratch, arrow)
        summary.errors.sort(key=lambda e: (e.path, e.line or 0))
        if batches:
            # One checkpoint at the end instead of one every few groups: each checkpoint
            # costs more as the database grows. Until then the WAL holds the committed rows.
            con.execute(db.load_sql("ingest_checkpoint"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _jobs(batches: list[Batch]) -> list[list[list[Batch]]]:
    """Units of work, each a list of groups to ingest in order.

    Small files go through the SQL pipeline together in groups (its fixed cost is per run);
    the parts of a file split by _chunks form one job, in order, so the file's offset only
    ever moves forward."""
    parts_of: dict[Path, int] = {}
    for b in batches:
        parts_of[b.path] = parts_of.get(b.path, 0) + 1
    jobs: list[list[list[Batch]]] = []
    chunked: dict[Path, list[list[Batch]]] = {}
    group: list[Batch] = []
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
    jobs: list[list[list[Batch]]],
    summary: IngestSummary,
    advance: Callable[[int], object],
    scratch: Path,
    arrow: bool,
) -> None:
    """Run the jobs, several at once on their own connections when there are several.

    Each group is still one transaction (its rows and its files' offsets), so running jobs
    side by side keeps every file all-or-nothing; the flattening SQL runs on one core per
    statement, so this is what uses the other cores.
    """
    lock = threading.Lock()

    def run(cur: duckdb.DuckDBPyConnection, job: list[list[Batch]]) -> None:
        for group in job:
            ok = ingest_group(cur, group, summary, lock, scratch, arrow)
            advance(sum(b.size for b in group))
            if not ok:
                break  # later parts of a file wait until this one can be read

    if len(jobs) <= 1 or WORKERS <= 1:
        for job in jobs:
            run(con, job)
        return
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []

    def work(job: list[list[Batch]]) -> None:
        cur = getattr(local, "cursor", None)
        if cur is None:
            cur = local.cursor = con.cursor()
            prepare(cur)
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
