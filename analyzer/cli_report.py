"""``swarmscope report``, ``check`` and ``compare``: grade sessions from the data directory.

Heavy imports (duckdb, scipy) happen inside the functions so ``swarmscope --help`` is quick.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from swarmscope import conventions as C
from swarmscope.analyzer.cli_data import DataDirOption

if TYPE_CHECKING:
    from .scoring import GradingConfig, SessionGrade

FORMATS = ("md", "json", "html")


class ReportError(Exception):
    """A report cannot be made (no data, unknown session); the message says what to do."""


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir or os.environ.get(C.ENV_DATA_DIR) or C.DEFAULT_DATA_DIR)


def refresh(data_dir: Path) -> None:
    """Ingest whatever was appended since the last run (cheap when nothing changed)."""
    from .ingest import ingest

    if data_dir.exists():
        ingest([data_dir], data_dir, progress=False)


def resolve_session(con: object, session: str | None) -> str:
    """The session id for ``session`` (a full id or a unique prefix), else the latest one."""
    from .db import load_sql

    if not session:
        row = con.execute(load_sql("report_latest_session")).fetchone()  # type: ignore[attr-defined]
        if row is None:
            raise ReportError("no session recorded yet: run `swarmscope demo` or instrument a "
                              "swarm, then `swarmscope ingest`")
        return str(row[0])
    rows = con.execute(load_sql("report_find_session"),  # type: ignore[attr-defined]
                       {"prefix": session}).fetchall()
    ids = [r[0] for r in rows]
    if session in ids:
        return session
    if not ids:
        raise ReportError(f"no session {session!r}: `swarmscope sessions` lists them")
    if len(ids) > 1:
        raise ReportError(f"session prefix {session!r} is ambiguous: {', '.join(ids[:5])}")
    return str(ids[0])


def grade(
    session: str | None = None,
    data_dir: Path | None = None,
    config: GradingConfig | Path | str | None = None,
    ingest_first: bool = True,
) -> SessionGrade:
    """Grade one session (default: the latest) of ``data_dir``."""
    return grade_many([session], data_dir, config, ingest_first)[0]


def grade_many(
    sessions: list[str | None],
    data_dir: Path | None = None,
    config: GradingConfig | Path | str | None = None,
    ingest_first: bool = True,
) -> list[SessionGrade]:
    """Grade several sessions with one read of the database (``None`` = the latest)."""
    from .db import connect, load_sql
    from .dimensions import grade_session
    from .phases import load_sessions
    from .scoring import GradingConfig, load_config

    cfg = config if isinstance(config, GradingConfig) else load_config(config)
    root = _data_dir(data_dir)
    if ingest_first:
        refresh(root)
    try:
        con = connect(root, read_only=True)
    except FileNotFoundError as exc:
        raise ReportError(str(exc)) from None
    try:
        # full ids are taken as they are (one query for all); others go through the prefix match
        known = {r[0] for r in con.execute(load_sql("report_find_session"),
                                           {"prefix": ""}).fetchall()}
        ids = [s if s in known else resolve_session(con, s) for s in sessions]
        data = load_sessions(con, list(dict.fromkeys(ids)))
    finally:
        con.close()
    return [grade_session(data[i], cfg) for i in ids]


def render(g: SessionGrade, fmt: str) -> str:
    if fmt == "md":
        from .report_md import render_markdown

        return render_markdown(g)
    if fmt == "json":
        from .report_json import render_json

        return render_json(g)
    if fmt == "html":
        from .report_html import render_html

        return render_html(g)
    raise ReportError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def print_report(data_dir: Path | None = None, session: str | None = None) -> None:
    """Grade and print a session's Markdown report to the terminal (used by the demo)."""
    g = grade(session, data_dir)
    _emit(render(g, "md"), "md", None)


def _emit(text: str, fmt: str, output: Path | None) -> None:
    if output is not None:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    elif fmt == "md" and sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)


ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help=f"Control points TOML overriding the defaults (or ${C.ENV_CONFIG}).")]
NoIngestOpt = Annotated[bool, typer.Option(
    "--no-ingest", help="Grade what is in the database; do not read new telemetry first.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def report(
    session: Annotated[str | None, typer.Argument(help="Session id or prefix (default: latest).")]
    = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or html.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]
    = None,
    config: ConfigOpt = None,
    data_dir: DataDirOption = None,
    no_ingest: NoIngestOpt = False,
) -> None:
    """Grade a session (memory, CPU, processes, GC, cleanup) and write its report."""
    from .scoring import ConfigError

    if fmt not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        g = grade(session, data_dir, config, not no_ingest)
    except (ReportError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    _emit(render(g, fmt), fmt, output)


def check(
    session: Annotated[str | None, typer.Argument(help="Session id or prefix (default: latest).")]
    = None,
    min_grade: Annotated[str, typer.Option("--min-grade", help="Lowest passing overall grade; "
                                           "a bare letter accepts its whole band (B = B- or "
                                           "better).")] = "B",
    config: ConfigOpt = None,
    data_dir: DataDirOption = None,
    no_ingest: NoIngestOpt = False,
) -> None:
    """Exit non-zero when a session's overall grade is below --min-grade (for CI gates)."""
    from .scoring import ConfigError, load_config, meets_grade

    try:
        cfg = load_config(config)
        meets_grade(100.0, min_grade, cfg.bands)  # an unknown grade fails before any work
        g = grade(session, data_dir, cfg, not no_ingest)
    except ValueError as exc:
        raise _fail(f"--min-grade: {exc}") from None
    except (ReportError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    ok = meets_grade(g.score, min_grade, cfg.bands)
    dims = ", ".join(f"{n} {d.grade}" for n, d in g.dimensions.items())
    score = "n/a" if g.score is None else f"{g.score:.1f}"
    verdict = "PASS" if ok else "FAIL"
    typer.echo(f"{verdict}: session {g.session} graded {g.grade} ({score}); "
               f"minimum {min_grade.upper()}. {dims}")
    if not ok:
        raise typer.Exit(1)


def compare(
    a: Annotated[str, typer.Argument(help="Baseline session id or prefix.")],
    b: Annotated[str, typer.Argument(help="Session to compare with the baseline.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json.")] = "md",
    config: ConfigOpt = None,
    data_dir: DataDirOption = None,
    no_ingest: NoIngestOpt = False,
) -> None:
    """Per-dimension grade and score deltas between two sessions (B minus A)."""
    import json

    from .scoring import ConfigError

    try:
        ga, gb = grade_many([a, b], data_dir, config, not no_ingest)
    except (ReportError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    rows = [("overall", ga.grade, ga.score, gb.grade, gb.score)]
    rows += [(n, ga.dimensions[n].grade, ga.dimensions[n].score, gb.dimensions[n].grade,
              gb.dimensions[n].score) for n in ga.dimensions]
    if fmt == "json":
        doc = {"a": ga.session, "b": gb.session, "dimensions": {
            n: {"a": {"grade": ag, "score": as_}, "b": {"grade": bg, "score": bs},
                "delta": _delta(as_, bs)} for n, ag, as_, bg, bs in rows}}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    lines = [f"# Compare {ga.session} (A) with {gb.session} (B)", "",
             "| Dimension | A | B | Delta (B - A) |", "|---|---|---|---|"]
    for n, ag, as_, bg, bs in rows:
        d = _delta(as_, bs)
        lines.append(f"| {n} | {ag} ({_s(as_)}) | {bg} ({_s(bs)}) | "
                     f"{'n/a' if d is None else f'{d:+.1f}'} |")
    _emit("\n".join(lines) + "\n", "md", None)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 1)


def _s(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}"


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("check")(check)
    app.command("compare")(compare)


def _standalone() -> None:
    """``python -m swarmscope.analyzer.cli_report``: these three commands on their own."""
    app = typer.Typer(add_completion=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    _standalone()
