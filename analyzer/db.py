"""Opening the analyzer's DuckDB database and loading SQL files by name.

SQL lives in ``analyzer/sql/*.sql`` so the data model is readable without reading Python.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
from swarmscope import conventions as C

from .db_errors import DatabaseError, database_error

# VARIANT columns (typed attribute values) need the v1.5 storage format.
_STORAGE_VERSION = "v1.5.0"


def database_path(data_dir: Path) -> Path:
    """Where the database lives: ``<data_dir>/swarmscope.duckdb``.

    The caller resolves the data directory (the CLI through swarmscope.settings): the
    analyzer reads no environment variables.
    """
    return Path(data_dir) / C.DATABASE_FILE


@cache
def load_sql(name: str) -> str:
    """The text of ``analyzer/sql/<name>.sql`` (``name`` without the suffix)."""
    return resources.files("swarmscope.analyzer").joinpath("sql", f"{name}.sql").read_text()


def sql_names() -> list[str]:
    """Names of every bundled .sql file."""
    folder = resources.files("swarmscope.analyzer").joinpath("sql")
    return sorted(p.name.removesuffix(".sql") for p in folder.iterdir() if p.name.endswith(".sql"))


def connect(data_dir: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``<data_dir>/swarmscope.duckdb`` with the schema and views in place.

    A writable connection creates the directory, the database and its tables when missing.
    A read-only connection needs an existing database (FileNotFoundError otherwise).
    """
    path = database_path(data_dir)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(
                f"no database at {path}: run `swarmscope ingest` first "
                "(or name the data directory with -d)"
            )
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise database_error(path, exc) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_empty(path)
        con = duckdb.connect(str(path),
                             config={"storage_compatibility_version": _STORAGE_VERSION})
    except (OSError, duckdb.Error) as exc:
        raise database_error(path, exc) from None
    try:
        ensure_schema(con)
    except duckdb.Error as exc:
        con.close()
        raise database_error(path, exc) from None
    return con


def _remove_empty(path: Path) -> None:
    """A 0-byte database (its creation was cut short, e.g. by a full disk) holds nothing
    but would make every later open fail: remove it, and a WAL that cannot belong to it."""
    try:
        if path.stat().st_size == 0:
            path.unlink()
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def connect_sandboxed(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection for ad-hoc queries that cannot touch anything else.

    The database is opened read-only; file access is limited to the data directory (so
    ``read_json`` of the telemetry files there still works; nothing outside it can be read
    or written); then the configuration is locked so no query can undo this. Statements
    that write files (COPY, EXPORT) are refused before they run (``check_read_only``).
    """
    con = connect(data_dir, read_only=True)
    root = str(Path(data_dir).resolve()).rstrip("/") + "/"
    try:
        for sql, params in _SANDBOX:
            con.execute(sql.format(root=root.replace("'", "''")), params)
    except duckdb.Error:
        con.close()
        raise
    return con


# Order matters: allowed_directories can only be set while external access is still on.
_SANDBOX = [
    ("SET allowed_directories = ['{root}']", None),
    ("SET enable_external_access = false", None),
    ("SET autoinstall_known_extensions = false", None),
    ("SET autoload_known_extensions = false", None),
    ("SET lock_configuration = true", None),
]

# The only statements an ad-hoc query may hold. Everything else (COPY, EXPORT, IMPORT,
# ATTACH, DETACH, SET/RESET/USE, INSTALL/LOAD, CALL, CHECKPOINT, PRAGMAs that set
# something, transactions, DDL, DML, PREPARE/EXECUTE, EXPLAIN, which would run an ANALYZE
# of anything) is refused by DuckDB's own parse of the text, not by keywords.
_READ_ONLY_TYPES = frozenset({"SELECT"})


class WriteRefused(DatabaseError):
    """An ad-hoc query holds a statement that is not a plain read."""


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise WriteRefused unless every statement of ``sql`` is a SELECT (also SHOW,
    DESCRIBE, SUMMARIZE, FROM-first and table PRAGMAs, which DuckDB parses as SELECTs)."""
    statements = con.extract_statements(sql)
    if not statements:
        raise WriteRefused("the query holds no statement")
    for n, st in enumerate(statements, 1):
        kind = st.type.name
        if kind not in _READ_ONLY_TYPES:
            where = f"statement {n} is" if len(statements) > 1 else "this is"
            raise WriteRefused(
                f"`swarmscope sql` is read-only: {where} {kind}, only SELECT queries "
                "(and SHOW, DESCRIBE, SUMMARIZE) run here")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and (re)create the views."""
    con.execute(load_sql("schema"))
    con.execute(load_sql("views"))
