"""Archives of telemetry files (zstd): written safely, and read as the file they replace.

An archive ``<file>.zst`` holds exactly the bytes of ``<file>`` in one zstd frame whose
header states their size. It is written through a temporary name (``<file>.zst.partial``),
synced, renamed, and only then is the original removed, so an interrupted write leaves the
original (and maybe a partial archive, which no reader takes for data) - never neither.
Ingest keys what it has read by the original's path (:func:`original_of`), so the data is
read once whether ingest met the file before or after it was archived.

zstd at level 9 keeps telemetry at 2-3 % of its size, compressing about as fast as gzip's
default and unpacking ~10x faster (docs/performance.md, "Bounded disk").
"""

from __future__ import annotations

import io
import os
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import zstandard
from swarmscope import conventions as c

LEVEL = 9
FRAME_HEADER_MAX = 18  # bytes: the longest zstd frame header


def is_archive(path: Path) -> bool:
    """``<name>.jsonl.zst`` / ``<name>.json.zst``: an archive of a telemetry file."""
    return path.suffix == c.ARCHIVE_SUFFIX and Path(path.stem).suffix in c.TELEMETRY_SUFFIXES


def is_telemetry(path: Path) -> bool:
    """A telemetry file or an archive of one."""
    return path.suffix in c.TELEMETRY_SUFFIXES or is_archive(path)


def superseded(path: Path, names: Collection[str]) -> bool:
    """An archive listed beside the file it holds (``names``: its folder's entries): archiving
    is still under way, and readers read the file."""
    return is_archive(path) and original_of(path).name in names


def archive_of(path: Path) -> Path:
    return path.with_name(path.name + c.ARCHIVE_SUFFIX)


def original_of(path: Path) -> Path:
    """The file an archive holds (a plain telemetry file is its own original)."""
    return path.with_name(path.stem) if is_archive(path) else path


def archive(path: Path, remove: bool = True) -> int:
    """Write ``path``'s archive and (``remove``) remove ``path``; the archive's size."""
    partial = path.with_name(path.name + c.PARTIAL_ARCHIVE_SUFFIX)
    compressor = zstandard.ZstdCompressor(level=LEVEL, write_content_size=True)
    with path.open("rb") as src, partial.open("wb") as dst:
        compressor.copy_stream(src, dst, size=os.fstat(src.fileno()).st_size)
        dst.flush()
        os.fsync(dst.fileno())  # the archive is on disk before the original goes
    final = archive_of(path)
    partial.replace(final)
    if remove:
        path.unlink()
    return final.stat().st_size


def open_archive(path: Path) -> BinaryIO:
    """The bytes an archive holds, as a buffered stream (read forward only)."""
    reader = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
    return io.BufferedReader(reader)  # type: ignore[arg-type]


def original_size(path: Path) -> int:
    """The size of the file an archive holds, from its frame header (no unpacking); raises
    ValueError for a file that is no archive of ours."""
    with path.open("rb") as fh:
        header = fh.read(FRAME_HEADER_MAX)
    try:
        size = zstandard.get_frame_parameters(header).content_size
    except zstandard.ZstdError as error:
        raise ValueError(f"not a zstd archive: {error}") from None
    if size == zstandard.CONTENTSIZE_UNKNOWN or size == zstandard.CONTENTSIZE_ERROR:
        raise ValueError("not a zstd archive of swarmscope's: its size is not in its header")
    return size


def unpack(path: Path, into: Path) -> int:
    """Write the bytes an archive holds to ``into``; how many (fewer than its header states
    when the archive was cut short: what it holds is written all the same)."""
    with path.open("rb") as src, into.open("wb") as dst:
        return zstandard.ZstdDecompressor().copy_stream(src, dst)[1]
