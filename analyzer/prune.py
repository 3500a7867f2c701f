"""Free disk: remove (or archive) telemetry files whose every byte the database already holds.

A file qualifies only when all of these hold, checked against ``ingested_files`` just before
the file is touched:

- ingest has a state for its path, and the state's byte offset equals the file's size (every
  line was read; an incomplete last line or a later append keeps the file);
- the fingerprint of its head (sha256 of the first ``head_len`` bytes) still matches, so it is
  the same file ingest read, not a replacement of the same size;
- it was last modified longer ago than the age asked for;
- no process has it open (a writer that went quiet must not append into a deleted file).

Nothing else is ever removed: files ingest never saw, the database, its scratch directory.
``--compress`` writes ``<file>.zst`` (swarmscope.archive: through a temporary name, synced,
then the original removed), so an interrupted run leaves either the original or both (the next
run finishes the work). Archives - the sdk's own of its rotated files, and those of an earlier
``--compress`` - count as the files they hold: removed when those are held whole and old
enough, never compressed again. Ingest reads an archive as the file it holds, so a new
database can be filled from archives too.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from swarmscope import conventions as C
from swarmscope.archive import (
    archive,
    is_archive,
    is_telemetry,
    open_archive,
    original_of,
    original_size,
)

from . import db
from .ingest_files import HEAD_BYTES, SCRATCH_DIR


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
    """Remove (``compress``: archive) the fully ingested files of ``data_dir`` older than
    ``older_than_s`` seconds. Raises FileNotFoundError without a database, and
    db.DatabaseError when it cannot be read (an ingest is writing it)."""
    con = db.connect(data_dir, read_only=True)
    try:
        states = {r[0]: r[1:] for r in con.execute(db.load_sql("prune_file_states")).fetchall()}
    finally:
        con.close()  # the database is not held while files are touched
    open_now = _open_files()
    _remove_partials(data_dir, open_now)
    result = PruneResult()
    cutoff = time.time() - older_than_s
    for path in _candidates(data_dir):
        if compress and is_archive(path):
            continue  # already as small as it gets
        state = states.get(str(original_of(path)))
        try:
            st = path.stat()
            if st.st_mtime > cutoff:
                continue
            if state is None or not _held_whole(path, state):
                result.kept_not_held += 1
                continue
        except ValueError:  # an archive that is not one of ours: never removed
            result.kept_not_held += 1
            continue
        except OSError:
            continue  # vanished meanwhile: nothing to do
        if (st.st_dev, st.st_ino) in open_now:
            result.kept_open += 1
            continue
        if not dry_run:
            if compress:
                result.written_bytes += archive(path)
            else:
                path.unlink()
        result.files.append((path, st.st_size))
    return result


def _candidates(data_dir: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(data_dir):
        dirs[:] = sorted(d for d in dirs if d != SCRATCH_DIR)
        for name in sorted(names):
            p = Path(folder, name)
            if is_telemetry(p) and not p.is_symlink() and p.is_file():
                yield p.resolve()


def _held_whole(path: Path, state: tuple) -> bool:
    """Every byte of the file (or of the file an archive holds) is in the database."""
    head_sha, head_len, offset, _fmt = state
    packed = is_archive(path)
    if (original_size(path) if packed else path.stat().st_size) != offset:
        return False
    with open_archive(path) if packed else path.open("rb") as fh:
        head = fh.read(min(head_len, HEAD_BYTES))
    return len(head) == head_len and hashlib.sha256(head).hexdigest() == head_sha


def _remove_partials(data_dir: Path, open_now: set[tuple[int, int]]) -> None:
    """Half-written archives of an interrupted run (their originals are still there); not
    one a process is writing now (the sdk archives its rotated files as it runs)."""
    for p in data_dir.rglob(f"*{C.PARTIAL_ARCHIVE_SUFFIX}"):
        try:
            st = p.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) not in open_now:
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
