"""What goes wrong when the database is opened or written, as messages for people.

DuckDB reports a held lock, a read-only or full file system and a file that is not a
database as IOException text; each becomes a DatabaseError that says what to do.
"""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb


class DatabaseError(Exception):
    """The database cannot be opened or written; the message says why and what to do."""


_HINTS = (
    ("conflicting lock", "another swarmscope process (an ingest?) is writing it; try again "
                         "when it has finished"),
    ("could not set lock", "another swarmscope process (an ingest?) is writing it; try again "
                           "when it has finished"),
    ("read-only file system", "the data directory is on a read-only file system"),
    ("no space left", "the disk is full"),
    ("disk quota", "the disk quota is exhausted"),
    ("permission denied", "permission denied"),
    ("not a valid duckdb database", "it is not a swarmscope database (move it away to start "
                                    "a new one)"),
)
_ERRNO_HINTS = {errno.EROFS: "the data directory is on a read-only file system",
                errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
                errno.EACCES: "permission denied", errno.EPERM: "permission denied"}


def database_error(path: Path, exc: BaseException) -> DatabaseError:
    """``exc`` (from opening or writing ``path``) as a DatabaseError with a hint."""
    return DatabaseError(f"cannot use {path}: {hint(exc)}")


def hint(exc: BaseException) -> str:
    """A one-line reason for an I/O failure of the database."""
    if isinstance(exc, OSError) and exc.errno in _ERRNO_HINTS:
        return _ERRNO_HINTS[exc.errno]
    text = str(exc)
    low = text.lower()
    for needle, message in _HINTS:
        if needle in low:
            return message
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def is_fatal(exc: BaseException) -> bool:
    """Whether ``exc`` stops the whole run (the disk, not one file's content, is at fault)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    if isinstance(exc, duckdb.FatalException):
        return True
    low = str(exc).lower()
    return any(n in low for n in _FATAL)


_FATAL = ("no space left", "database has been invalidated", "read-only file system",
          "disk quota")
