"""Free disk: remove (or gzip) telemetry files whose every byte the database already holds.

A file qualifies only when all of these hold, checked against ``ingested_files`` just before
the file is touched:

- ingest has a state for its path, and the state's byte offset equals the file's size (every
  line was read; an incomplete last line or a later append keeps the file);
- the fingerprint of its head (sha256 of the first ``head_len`` bytes) still matches, so it is
  the same file ingest read, not a replacement of the same size;
- it was last modified longer ago than the age asked for;
- no process has it open (a writer that went quiet must not append into a deleted file).

Nothing else is ever removed: files ingest never saw, the database, its scratch directory.
``--compress`` writes ``<file>.gz`` (stdlib gzip) through a temporary name, syncs it, and only
then removes the original, so an interrupted run leaves either the original or both (the next
run finishes the work). Ingest does not read ``.gz`` files (they are held already); to load an
archive into a new database, ``gunzip`` it first.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from swarmscope import conventions as C

from . import db
from .ingest_files import SCRATCH_DIR

ARCHIVE_SUFFIX = ".gz"
PARTIAL_SUFFIX = ".gz.partial"


@dataclass
class PruneResult:
    files: list[tuple[Path, int]] = field(default_factory=list)  # (path, bytes) pruned
    kept_not_held: int = 0  # files the database does not hold whole (kept)
    kept_open: int = 0  # files a process has open (kept)
    written_bytes: int = 0  # size of the archives written (--compress)

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.files)


def prune(data_dir: Path, older_than_s: float, *, dry_run: bool = False,
          compress: bool = False) -> PruneResult:
    """Remove (``compress``: gzip) the fully ingested files of ``data_dir`` older than
    ``older_than_s`` seconds. Raises FileNotFoundError without a database, and
    db.DatabaseError when it cannot be read (an ingest is writing it)."""
    con = db.connect(data_dir, read_only=True)
    try:
        states = {r[0]: r[1:] for r in con.execute(db.load_sql("prune_file_states")).fetchall()}
    finally:
        con.close()  # the database is not held while files are touched
    _remove_partials(data_dir)
    result = PruneResult()
    cutoff = time.time() - older_than_s
    open_now = _open_files()
    for path in _candidates(data_dir):
        state = states.get(str(path))
        try:
            st = path.stat()
            if st.st_mtime > cutoff:
                continue
            if state is None or not _held_whole(path, st.st_size, state):
                result.kept_not_held += 1
                continue
        except OSError:
            continue  # vanished meanwhile: nothing to do
        if (st.st_dev, st.st_ino) in open_now:
            result.kept_open += 1
            continue
        if not dry_run:
            result.written_bytes += _compress(path) if compress else 0
            path.unlink()
        result.files.append((path, st.st_size))
    return result


def _candidates(data_dir: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(data_dir):
        dirs[:] = sorted(d for d in dirs if d != SCRATCH_DIR)
        for name in sorted(names):
            p = Path(folder, name)
            if p.suffix in C.TELEMETRY_SUFFIXES and not p.is_symlink() and p.is_file():
                yield p.resolve()


def _held_whole(path: Path, size: int, state: tuple) -> bool:
    head_sha, head_len, offset, _fmt = state
    if size != offset:
        return False
    with path.open("rb") as fh:
        head = fh.read(head_len)
    return len(head) == head_len and hashlib.sha256(head).hexdigest() == head_sha


def _compress(path: Path) -> int:
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    with path.open("rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    with partial.open("rb+") as fh:
        os.fsync(fh.fileno())  # the archive is on disk before the original goes
    final = path.with_name(path.name + ARCHIVE_SUFFIX)
    partial.replace(final)
    return final.stat().st_size


def _remove_partials(data_dir: Path) -> None:
    """Half-written archives of an interrupted run (their originals are still there)."""
    for p in data_dir.rglob(f"*{PARTIAL_SUFFIX}"):
        p.unlink(missing_ok=True)


def _open_files() -> set[tuple[int, int]]:
    """(device, inode) of every file some process we can see has open (Linux /proc)."""
    found: set[tuple[int, int]] = set()
    try:
        pids = [d for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
    return found
