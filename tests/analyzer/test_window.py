"""Reports over a window: ``--since`` grades only that part of the session, ``--window`` adds
a grade per window (Markdown table, HTML chart, JSON list); the CLI options stay thin and a
bad duration is a clear error with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from otlp_session import NS, T0, OtlpSession
from swarmscope import conventions as C
from swarmscope.analyzer import api
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.window import WindowError, parse_duration, since_ns
from typer.testing import CliRunner

MB = 1_000_000
LENGTH_S = 600  # ten minutes at 1 Hz; the leak starts halfway


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("window") / "data"
    s = OtlpSession("sess-window")
    rng = np.random.default_rng(3)
    procs = [s.process(name, 3000 + i, 1.0, None) for i, name in
             enumerate(["steady", "late-leaker", "calm"])]
    for t in range(2, LENGTH_S):
        for p in procs:
            rss = 80 * MB + rng.normal(0, 1 * MB)
            if p.name == "late-leaker" and t > LENGTH_S / 2:
                rss += (t - LENGTH_S / 2) * 0.5 * MB  # 150 MB more by the end
            s.sample(C.PROCESS_MEMORY_USAGE, p, t, rss)
            s.sample(C.PROCESS_CPU_UTILIZATION, p, t, 0.05, cpu__mode="user")
    s.host_samples(LENGTH_S, every=1.0)
    s.write(data_dir)
    from swarmscope.analyzer.ingest import ingest

    assert ingest([data_dir], data_dir, progress=False).errors == []
    return data_dir


def _grade(data_dir: Path, **kw):
    return api.grade("sess-window", data_dir, load_config(None), ingest_first=False, **kw)


def _leakers(g) -> list[str]:
    return [lk.agent_name for lk in g.dimensions["memory"].leaks]


def test_durations_and_times() -> None:
    assert [parse_duration(x) for x in ("30s", "10m", "1h", "2d", "1.5h")] == \
        [30, 600, 3600, 172800, 5400]
    for bad in ("", "10", "ten minutes", "-1h", "0s", "5w"):
        with pytest.raises(WindowError):
            parse_duration(bad)
    end = T0 + 600 * NS
    assert since_ns("1m", end) == end - 60 * NS
    assert since_ns("2023-11-14T22:13:20+00:00", end) == T0
    assert since_ns("2023-11-14T22:13:20", end) == T0  # naive times are UTC
    with pytest.raises(WindowError, match="neither a duration"):
        since_ns("yesterday", end)


def test_since_grades_only_the_window(session_dir: Path) -> None:
    assert _leakers(_grade(session_dir)) == ["late-leaker"]
    recent = _grade(session_dir, since="4m")
    assert _leakers(recent) == ["late-leaker"]
    assert recent.end_ns - recent.start_ns == pytest.approx(240 * NS, rel=0.01)
    early = _grade(session_dir, since="2023-11-14T22:13:20+00:00", window=None)
    assert early.start_ns >= T0


def test_since_reads_only_the_window_and_grades_as_the_cut_in_memory(
    session_dir: Path,
) -> None:
    """``--since`` is pushed into the database read: a long session's last hour costs that
    hour. The grade must be the one of the whole session cut in memory."""
    from swarmscope.analyzer import db
    from swarmscope.analyzer.grading.session import grade_session
    from swarmscope.analyzer.session_data import load_sessions
    from swarmscope.analyzer.window import apply

    cfg = load_config(None)
    con = db.connect(session_dir, read_only=True)
    try:
        whole = load_sessions(con, ["sess-window"])["sess-window"]
        recent = load_sessions(con, ["sess-window"],
                               lambda end: since_ns("4m", end))["sess-window"]
    finally:
        con.close()
    first = since_ns("4m", whole.facts["end_ns"])
    memory = C.PROCESS_MEMORY_USAGE
    assert whole.samples(memory).ts.min() < first <= recent.samples(memory).ts.min()
    assert 0 < len(recent.samples(memory)) < len(whole.samples(memory)) / 2
    cut = apply(whole, "4m", "1m", lambda d: grade_session(d, cfg))
    pushed = _grade(session_dir, since="4m", window="1m")
    assert pushed.as_dict() == cut.as_dict()


def test_window_before_the_leak_is_clean(session_dir: Path) -> None:
    g = _grade(session_dir, window="150s")
    assert [len(g.windows)] == [4]
    first, second, third, fourth = g.windows
    assert first.leaks == [] and second.leaks == []  # before the leak began
    assert any("late-leaker" in x for x in third.leaks + fourth.leaks)
    assert not any("steady" in x or "calm" in x for w in g.windows for x in w.leaks)
    assert first.score > fourth.score
    assert all(w.samples > 0 for w in g.windows)


def test_windows_in_every_format(session_dir: Path) -> None:
    g = _grade(session_dir, window="5m")
    md = api.render(g, "md")
    assert "## Grades over time" in md and md.count("\n| 20") == 2
    doc = json.loads(api.render(g, "json"))
    assert [w["grade"] for w in doc["windows"]] == [w.grade for w in g.windows]
    assert set(doc["windows"][0]["dimensions"]) == set(g.dimensions)
    html = api.render(g, "html")
    assert "<svg class=\"windows\"" in html and "<polyline" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "Grades over time" not in api.render(_grade(session_dir), "md")


def test_too_many_windows_is_a_report_error(session_dir: Path) -> None:
    with pytest.raises(api.ReportError, match="at most"):
        _grade(session_dir, window="0.1s")


def test_cli_options(session_dir: Path) -> None:
    from swarmscope.cli import app

    runner = CliRunner()
    base = ["report", "sess-window", "-d", str(session_dir), "--no-ingest"]
    ok = runner.invoke(app, [*base, "--since", "4m", "--window", "2m", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)["windows"]) == 2
    for option, value in (("--since", "lately"), ("--window", "ten")):
        bad = runner.invoke(app, [*base, option, value])
        assert bad.exit_code == 2
        assert "Traceback" not in bad.output and "error:" in bad.output
