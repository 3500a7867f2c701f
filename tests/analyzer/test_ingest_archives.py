"""Archives (``<file>.jsonl.zst``, as the sdk writes them at rotation and ``prune --compress``
leaves them) are read as the files they hold, on real files and a real DuckDB: where ingest
stopped in the file it goes on in the archive, nothing is stored twice, a file and its archive
side by side are read once, and a cut archive gives its whole lines and is reported."""

from __future__ import annotations

import json
from pathlib import Path

import zstandard
from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest
from swarmscope.archive import archive, archive_of

T = 1_700_000_000_000_000_000
TRACE = "5b8efff798038103d269b633813fc60c"


def _line(n: int) -> str:
    span = {"traceId": TRACE, "spanId": f"{n + 1:016x}", "name": "work",
            "startTimeUnixNano": str(T + n), "endTimeUnixNano": str(T + n + 1),
            "attributes": [{"key": "n", "value": {"intValue": str(n)}}]}
    resource = {"attributes": [{"key": C.SESSION_ID, "value": {"stringValue": "sess-gz"}}]}
    return json.dumps({"resourceSpans": [{"resource": resource,
                                          "scopeSpans": [{"spans": [span]}]}]}) + "\n"


def _write(path: Path, numbers: range) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.writelines(_line(n) for n in numbers)


def _stored(data_dir: Path) -> tuple[int, int, list[str]]:
    con = db.connect(data_dir, read_only=True)
    try:
        count, distinct = con.execute(
            "SELECT count(*), count(DISTINCT attributes['n']::BIGINT) FROM spans").fetchone()
        paths = [r[0] for r in con.execute("SELECT path FROM ingested_files").fetchall()]
    finally:
        con.close()
    return count, distinct, paths


def test_ingest_goes_on_in_the_archive_where_it_stopped_in_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = data / "sdk" / "traces.h.1.5.jsonl"
    _write(first, range(0, 30))
    ingest(None, data, progress=False)
    _write(first, range(30, 50))  # more lines, then the sdk rotates and archives the file
    archive(first)
    assert not first.exists() and archive_of(first).exists()
    summary = ingest(None, data, progress=False)
    assert summary.lines_read == 20 and not summary.errors
    assert _stored(data) == (50, 50, [str(first.resolve())])
    again = ingest(None, data, progress=False)
    assert again.lines_read == 0 and _stored(data)[0] == 50


def test_a_new_database_is_filled_from_archives_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = [data / "sdk" / f"traces.h.{i}.5.jsonl" for i in range(3)]
    for i, f in enumerate(files):
        _write(f, range(i * 100, i * 100 + 100))
        archive(f)
    ingest(None, data, progress=False)
    count, distinct, paths = _stored(data)
    assert (count, distinct) == (300, 300)
    assert sorted(paths) == sorted(str(f.resolve()) for f in files)


def test_a_file_and_its_archive_side_by_side_are_read_once(tmp_path: Path) -> None:
    # archiving was interrupted after the archive was renamed into place
    data = tmp_path / "data"
    f = data / "sdk" / "traces.h.1.5.jsonl"
    _write(f, range(40))
    archive(f, remove=False)
    (data / "sdk" / (f.name + C.PARTIAL_ARCHIVE_SUFFIX)).write_bytes(b"\x28\xb5\x2f\xfd half")
    ingest(None, data, progress=False)
    assert _stored(data) == (40, 40, [str(f.resolve())])


def test_a_cut_archive_gives_its_whole_lines_and_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good, cut = data / "sdk" / "traces.h.1.5.jsonl", data / "sdk" / "traces.h.2.5.jsonl"
    _write(good, range(10))
    archive(good)
    _write(cut, range(100, 3100))  # several zstd blocks: the first ones survive the cut
    whole = zstandard.ZstdCompressor().compress(cut.read_bytes())
    cut.unlink()
    archive_of(cut).write_bytes(whole[: len(whole) * 2 // 3])
    summary = ingest(None, data, progress=False)
    count, distinct, _ = _stored(data)
    assert count == distinct and 10 < count < 10 + 3000  # the good file, and part of the cut
    line, error = sorted(summary.errors, key=lambda e: e.line is None)
    assert error.path == str(archive_of(cut).resolve()) and "cut short" in error.reason
    assert line.path == str(cut.resolve()) and line.line == count - 10 + 1  # the cut line
