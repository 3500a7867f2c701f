"""What the command line asks of the analyzer: grade sessions, render reports, compare, query.

Every function takes the data directory and the grading configuration explicitly: the
analyzer reads no environment variables (the CLI resolves them through swarmscope.settings).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from . import db, report_alerts
from .config import GradingConfig, load_config
from .grading.session import grade_session
from .ingest import IngestError, ingest
from .report_html import render_html
from .report_json import render_json
from .report_md import render_markdown
from .results import SessionGrade
from .session_data import load_sessions
from .window import WindowError, since_ns
from .window import apply as apply_window

REPORT_FORMATS = ("md", "json", "html")
_RENDERERS = {"md": render_markdown, "json": render_json, "html": render_html}


class ReportError(Exception):
    """A report cannot be made (no data, unknown session); the message says what to do."""


def refresh(data_dir: Path) -> None:
    """Ingest whatever was appended since the last run (cheap when nothing changed).

    Raises ReportError when that cannot be done (the database is held by another process,
    the disk is read-only or full): grading stale data silently would mislead."""
    if data_dir.exists():
        try:
            ingest([data_dir], data_dir, progress=False)
        except IngestError as exc:
            raise ReportError(f"{exc} (--no-ingest grades what the database holds)") from None


def resolve_session(con: duckdb.DuckDBPyConnection, session: str | None) -> str:
    """The session id for ``session`` (a full id or a unique prefix), else the latest one."""
    if not session:
        row = con.execute(db.load_sql("report_latest_session")).fetchone()
        if row is None:
            raise ReportError("no session recorded yet: run `swarmscope demo` or instrument a "
                              "swarm, then `swarmscope ingest`")
        return str(row[0])
    rows = con.execute(db.load_sql("report_find_session"), {"prefix": session}).fetchall()
    ids = [r[0] for r in rows]
    if session in ids:
        return session
    if not ids:
        raise ReportError(f"no session {session!r}: `swarmscope sessions` lists them")
    if len(ids) > 1:
        raise ReportError(f"session prefix {session!r} is ambiguous: {', '.join(ids[:5])}")
    return str(ids[0])


def grade(
    session: str | None,
    data_dir: Path,
    config: GradingConfig | Path | None = None,
    ingest_first: bool = True,
    since: str | None = None,
    window: str | None = None,
) -> SessionGrade:
    """Grade one session (None: the latest) of ``data_dir``; ``since`` grades only its part
    from then on (``1h``: its last hour; or an ISO time), ``window`` adds a grade per window
    of that length (``10m``) in ``SessionGrade.windows`` (analyzer/window.py)."""
    return grade_many([session], data_dir, config, ingest_first, since, window)[0]


def grade_many(
    sessions: list[str | None],
    data_dir: Path,
    config: GradingConfig | Path | None = None,
    ingest_first: bool = True,
    since: str | None = None,
    window: str | None = None,
) -> list[SessionGrade]:
    """Grade several sessions with one read of the database (``None`` = the latest).

    ``config`` is a loaded configuration, a control-points TOML to merge over the defaults,
    or None for the defaults.
    """
    cfg = config if isinstance(config, GradingConfig) else load_config(config)
    if ingest_first:
        refresh(data_dir)
    try:
        con = db.connect(data_dir, read_only=True)
    except (FileNotFoundError, db.DatabaseError) as exc:
        raise ReportError(str(exc)) from None
    try:
        # full ids are taken as they are (one query for all); others go through the prefix match
        known = {r[0] for r in con.execute(db.load_sql("report_find_session"),
                                           {"prefix": ""}).fetchall()}
        ids = [s if s in known else resolve_session(con, s) for s in sessions]
        points_from = None
        if since is not None:
            since_ns(since, 0)  # a bad --since fails before any work
            points_from = functools.partial(since_ns, since)
        data = load_sessions(con, list(dict.fromkeys(ids)), points_from, cfg.max_points)
        alerts = report_alerts.load(con, list(dict.fromkeys(ids)))  # docs/live.md
    except WindowError as exc:
        raise ReportError(str(exc)) from None
    finally:
        con.close()
    if since is None and window is None:
        return report_alerts.attach(alerts, [grade_session(data[i], cfg) for i in ids])
    try:
        return report_alerts.attach(alerts, [
            apply_window(data[i], since, window, lambda d: grade_session(d, cfg)) for i in ids])
    except WindowError as exc:
        raise ReportError(str(exc)) from None


def render(g: SessionGrade, fmt: str) -> str:
    """The report of a graded session as Markdown (md), JSON (json) or an HTML page (html)."""
    if fmt not in _RENDERERS:
        raise ReportError(f"--format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    return _RENDERERS[fmt](g)


# --- compare ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ComparedRow:
    """One dimension (or the overall grade) of two sessions side by side."""

    name: str
    a_grade: str
    a_score: float | None
    b_grade: str
    b_score: float | None

    @property
    def delta(self) -> float | None:
        """B minus A, rounded to one decimal; None when either is not measured."""
        if self.a_score is None or self.b_score is None:
            return None
        return round(self.b_score - self.a_score, 1)


def compare_rows(a: SessionGrade, b: SessionGrade) -> list[ComparedRow]:
    """The overall grade, then every dimension, of ``a`` (baseline) and ``b``."""
    rows = [ComparedRow(name="overall", a_grade=a.grade, a_score=a.score, b_grade=b.grade,
                        b_score=b.score)]
    for name, in_a in a.dimensions.items():
        in_b = b.dimensions[name]
        rows.append(ComparedRow(name=name, a_grade=in_a.grade, a_score=in_a.score,
                                b_grade=in_b.grade, b_score=in_b.score))
    return rows


def compare_json(a: SessionGrade, b: SessionGrade) -> dict[str, Any]:
    """The comparison as the JSON document ``swarmscope compare --format json`` prints."""
    return {"a": a.session, "b": b.session, "dimensions": {
        r.name: {"a": {"grade": r.a_grade, "score": r.a_score},
                 "b": {"grade": r.b_grade, "score": r.b_score},
                 "delta": r.delta} for r in compare_rows(a, b)}}


def compare_markdown(a: SessionGrade, b: SessionGrade) -> str:
    """The comparison as a Markdown table (B minus A)."""
    lines = [f"# Compare {a.session} (A) with {b.session} (B)", "",
             "| Dimension | A | B | Delta (B - A) |", "|---|---|---|---|"]
    for r in compare_rows(a, b):
        delta = "n/a" if r.delta is None else f"{r.delta:+.1f}"
        lines.append(f"| {r.name} | {r.a_grade} ({_score(r.a_score)}) | "
                     f"{r.b_grade} ({_score(r.b_score)}) | {delta} |")
    return "\n".join(lines) + "\n"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


# --- ad-hoc queries --------------------------------------------------------------------------


def query(data_dir: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """Run ``sql`` read-only against the session database: (column names, rows).

    Read-only in fact (db.connect_sandboxed): the database is opened read-only, no file
    outside the data directory can be read or written, the settings are locked, and every
    statement must be a SELECT (db.check_read_only). None for a statement that returns no
    result set. Raises FileNotFoundError when there is no database yet, db.DatabaseError
    (WriteRefused for a statement that is not a read) and duckdb.Error for a query DuckDB
    rejects.
    """
    con = db.connect_sandboxed(data_dir)
    try:
        db.check_read_only(con, sql)
        result = con.execute(sql)
        if result.description is None:
            return None
        return [d[0] for d in result.description], result.fetchall()
    finally:
        con.close()


def list_sessions(data_dir: Path) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """The recorded sessions, newest first (sql/list_sessions.sql)."""
    return query(data_dir, db.load_sql("list_sessions"))
