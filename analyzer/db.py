"""Opening the analyzer's DuckDB database and loading SQL files by name.

SQL lives in ``analyzer/sql/*.sql`` so the data model is readable without reading Python.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
from swarmscope import conventions as C

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
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"storage_compatibility_version": _STORAGE_VERSION})
    ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and (re)create the views."""
    con.execute(load_sql("schema"))
    con.execute(load_sql("views"))
