"""``swarmscope report``, ``check`` and ``compare``: grade sessions from the data directory.

Thin commands over :mod:`swarmscope.analyzer.api`; heavy imports (duckdb, scipy) happen
inside the commands so ``swarmscope --help`` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from swarmscope.cli import options

NoIngestOption = Annotated[bool, typer.Option(
    "--no-ingest", help="Grade what is in the database; do not read new telemetry first.")]


SinceOption = Annotated[str | None, typer.Option(
    "--since", help="Grade only the session from then on: a duration before its last record "
    "(30s, 10m, 1h, 2d) or an ISO time (2026-12-01T10:00:00+00:00). Only that part is read: "
    "the last hour of a day-long session costs an hour.", show_default=False)]
WindowOption = Annotated[str | None, typer.Option(
    "--window", help="Add a grade per window of this length over time (e.g. 10m): a table "
    "in Markdown, a chart in HTML, a list in JSON.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("check")(check)
    app.command("compare")(compare)


def report(
    session: options.SessionArgument = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or html.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]
    = None,
    config: options.ConfigOption = None,
    data_dir: options.DataDirOption = None,
    no_ingest: NoIngestOption = False,
    since: SinceOption = None,
    window: WindowOption = None,
) -> None:
    """Grade a session (memory, CPU, processes, GC, cleanup) and write its report.

    Example: swarmscope report --format html -o report.html
    Example: swarmscope report --since 1h --window 10m
    """
    options.require_analyzer()
    from swarmscope.analyzer.api import REPORT_FORMATS, ReportError, grade, render
    from swarmscope.analyzer.config import ConfigError

    if fmt not in REPORT_FORMATS:
        options.fail(f"--format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    try:
        g = grade(session, options.data_dir(data_dir), options.config_path(config),
                  not no_ingest, since=since, window=window)
    except (ReportError, ConfigError) as exc:
        options.fail(str(exc))
    except _database_errors() as exc:
        options.fail(_database_message(exc))
    _emit(render(g, fmt), fmt, output)


def check(
    session: options.SessionArgument = None,
    min_grade: Annotated[str, typer.Option("--min-grade", help="Lowest passing overall grade; "
                                           "a bare letter accepts its whole band (B = B- or "
                                           "better).")] = "B",
    config: options.ConfigOption = None,
    data_dir: options.DataDirOption = None,
    no_ingest: NoIngestOption = False,
) -> None:
    """Exit 1 when a session's overall grade is below --min-grade (for CI gates); 2 on errors.

    Example: swarmscope check --min-grade B- || echo "swarm regressed"
    """
    options.require_analyzer()
    from swarmscope.analyzer.api import ReportError, grade
    from swarmscope.analyzer.config import ConfigError, load_config
    from swarmscope.analyzer.scoring import meets_grade

    try:
        cfg = load_config(options.config_path(config))
        meets_grade(100.0, min_grade, cfg.bands)  # an unknown grade fails before any work
        g = grade(session, options.data_dir(data_dir), cfg, not no_ingest)
    except ConfigError as exc:  # a ValueError too: test it first
        options.fail(str(exc))
    except ValueError as exc:
        options.fail(f"--min-grade: {exc}")
    except ReportError as exc:
        options.fail(str(exc))
    except _database_errors() as exc:  # never exit 1 (the verdict) for an error
        options.fail(_database_message(exc))
    ok = meets_grade(g.score, min_grade, cfg.bands)
    dims = ", ".join(f"{n} {d.grade}" for n, d in g.dimensions.items())
    score = "n/a" if g.score is None else f"{g.score:.1f}"
    verdict = "PASS" if ok else "FAIL"
    typer.echo(f"{verdict}: session {g.session} graded {g.grade} ({score}); "
               f"minimum {min_grade.upper()}. {dims}")
    if not ok:
        raise typer.Exit(options.VERDICT)


def compare(
    a: Annotated[str, typer.Argument(help="Baseline session id or prefix.")],
    b: Annotated[str, typer.Argument(help="Session to compare with the baseline.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json.")] = "md",
    config: options.ConfigOption = None,
    data_dir: options.DataDirOption = None,
    no_ingest: NoIngestOption = False,
) -> None:
    """Per-dimension grade and score deltas between two sessions (B minus A).

    Example: swarmscope compare 3f2a 9c41 --format json
    """
    options.require_analyzer()
    import json

    from swarmscope.analyzer.api import ReportError, compare_json, compare_markdown, grade_many
    from swarmscope.analyzer.config import ConfigError

    try:
        ga, gb = grade_many([a, b], options.data_dir(data_dir), options.config_path(config),
                            not no_ingest)
    except (ReportError, ConfigError) as exc:
        options.fail(str(exc))
    except _database_errors() as exc:
        options.fail(_database_message(exc))
    if fmt == "json":
        sys.stdout.write(json.dumps(compare_json(ga, gb), indent=2) + "\n")
        return
    _emit(compare_markdown(ga, gb), "md", None)


def print_report(data_dir: Path, session: str | None = None) -> None:
    """Grade and print a session's Markdown report to the terminal (the demo ends with it)."""
    from swarmscope.analyzer.api import grade, render

    g = grade(session, data_dir, options.config_path(None))
    _emit(render(g, "md"), "md", None)


def _database_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or vanished database can raise while grading."""
    import duckdb

    return (duckdb.Error, OSError)


def _database_message(exc: BaseException) -> str:
    from swarmscope.analyzer.db_errors import hint

    return f"cannot read the session database: {hint(exc)}"


def _emit(text: str, fmt: str, output: Path | None) -> None:
    """Write to ``output``, render Markdown on a terminal, else print as is."""
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            options.fail(f"cannot write {output}: {exc.strerror or exc}")
        typer.echo(f"wrote {output}", err=True)
    elif fmt == "md" and sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)
