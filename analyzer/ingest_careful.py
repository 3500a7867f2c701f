"""The careful path: a file region that DuckDB's fast read rejected, read line by line.

Each line is parsed on its own, so a bad line costs only itself. Lines that are not UTF-8,
not JSON or not an object are reported by line; a line that parses but holds a value that
does not fit its field (a number out of range, an object where a list belongs) has that
value read as NULL and is reported with the field's path, found by ``ingest_json``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import duckdb

from . import db
from .ingest_json import line_reason, loads, misfits
from .ingest_results import LineError


def read_careful(
    con: duckdb.DuckDBPyConnection, path: Path, first_line: int, data: bytes, region: Path,
    errors: list[LineError],
) -> None:
    """Put the lines of ``data`` (a region of ``path`` starting at ``first_line``, ending
    with a newline) into the batch tables, reporting every line that cannot be used."""
    data = _utf8_lines(data, str(path), first_line, errors)
    region.write_bytes(data)
    con.execute(db.load_sql("ingest_lines"), [str(path), first_line, str(region)])
    con.execute(db.load_sql("ingest_parse"))
    for source, line_no, text in con.execute(db.load_sql("ingest_unparsable")).fetchall():
        errors.append(LineError(source, line_no, line_reason(text)))
    con.execute(db.load_sql("ingest_clear_lines"))
    shape = _shape(con)
    for i, line in enumerate(data.split(b"\n")[:-1]):
        for reason in _misfit_reasons(line, shape):
            errors.append(LineError(str(path), first_line + i, reason))


def _utf8_lines(data: bytes, path: str, first_line: int, errors: list[LineError]) -> bytes:
    """``data`` with every line that is not UTF-8 (or holds a NUL, which DuckDB's text
    cannot) blanked out and reported; the common case, all valid, costs one decode."""
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            pass
    out = []
    for i, line in enumerate(data.split(b"\n")[:-1]):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(LineError(path, first_line + i, f"not UTF-8 text (byte {exc.start})"))
            line = b""
        if b"\x00" in line:
            errors.append(LineError(path, first_line + i,
                                    f"invalid JSON: NUL byte at column {line.index(0) + 1}"))
            line = b""
        out.append(line)
    return b"\n".join(out) + b"\n"


def _misfit_reasons(line: bytes, shape: duckdb.typing.DuckDBPyType) -> list[str]:
    """The fields of one line that DuckDB read as NULL because their value does not fit.

    Only the lines of a file the fast read rejected come here, and DuckDB gives no field
    for a value that does not fit, so Python walks the parsed line against the shape.
    Lines that are not a JSON object were reported already."""
    if len(line) < 2 or not line.lstrip().startswith(b"{"):
        return []
    try:
        doc = loads(line, strict=False)
    except ValueError:
        return []
    return [f"{f} (read as null)" for f in misfits(doc, shape)]


@cache
def _shape_name() -> str:
    con = duckdb.connect()
    try:
        for name in ("ingest_shape", "ingest_macros"):
            con.execute(db.load_sql(name))
        return json.loads(con.execute(db.load_sql("ingest_shape_type")).fetchone()[0])
    finally:
        con.close()


def _shape(con: duckdb.DuckDBPyConnection) -> duckdb.typing.DuckDBPyType:
    return con.type(_shape_name())
