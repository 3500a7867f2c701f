"""Reports and the report/check/compare commands over ingested OTLP files.

The sessions are written in the SDK's file format by the report benchmark's generator (so the
benchmark's data is known to grade sensibly) and read with the real ingest.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest
import typer
from swarmscope.analyzer.report_md import SECTIONS, TITLES, esc
from swarmscope.cli import report as cli_report
from typer.testing import CliRunner

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_report.py"


def _bench():
    """The benchmark's synthetic-session writer (it imports its sibling modules by name)."""
    if str(BENCH.parent) not in sys.path:
        sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_report", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sessions(data_dir: Path) -> tuple[str, str]:
    """A clean session, then (a minute later) one with a leaking agent and an orphan."""
    bench, rng = _bench(), random.Random(3)
    clean = bench.write_session(data_dir, 1, rng)
    bad = bench.write_session(data_dir, 2, rng, leak=True, orphan=True)
    return clean, bad


@pytest.fixture
def cli():
    app = typer.Typer()
    cli_report.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_report_defaults_to_latest_session_in_markdown(sessions, cli) -> None:
    clean, bad = sessions
    result = cli("report")  # ingests the new files first
    assert result.exit_code == 0, result.output
    md = result.output
    assert md.startswith(f"# Swarm resource report: session {bad}")
    positions = [md.index(f"## {s}") for s in SECTIONS]
    assert positions == sorted(positions)
    for title in TITLES.values():
        assert f"### {title}:" in md
    timeline = md.split("## Metrics timeline")[1].split("## Strengths")[0]
    for phase in ("baseline", "agents active", "peak", "pre-termination", "post-termination"):
        assert f"| {phase} |" in timeline
    recs = md.split("## Recommendations")[1].split("## Technical details")[0]
    assert "agent-0" in recs and "outlived it" in recs  # derived from the findings
    assert "mesh" in md.split("### Swarm configuration")[1]


def test_json_report_keys_and_verdicts(sessions, cli, tmp_path: Path) -> None:
    clean, bad = sessions
    out = tmp_path / "r.json"
    result = cli("report", bad[:12], "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["session"] == bad
    assert set(doc["overall"]) >= {"grade", "score"}
    assert set(doc["dimensions"]) == {"memory", "cpu", "processes", "gc", "cleanup"}
    for dim in doc["dimensions"].values():
        assert {"grade", "score", "assessment", "findings"} <= set(dim)
    (leak,) = doc["dimensions"]["memory"]["leaks"]
    assert leak["agent_id"].startswith("agent-0") and leak["pid"] and leak["p_value"] < 0.01
    assert leak["metric"] == "process.memory.usage" and leak["slope"] > 2**20
    assert doc["dimensions"]["processes"]["leaks"] == []
    (orphan,) = doc["dimensions"]["cleanup"]["orphans"]
    assert orphan["pid"] and orphan["command"] == "python3" and orphan["agent"]
    assert doc["dimensions"]["cleanup"]["zombies"] == []


def test_html_report_to_file(sessions, cli, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert cli("report", sessions[0], "-f", "html", "-o", str(out)).exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_check_passes_and_fails_against_the_bar(sessions, cli) -> None:
    clean, bad = sessions
    ok = cli("check", clean, "--min-grade", "A")
    assert ok.exit_code == 0 and ok.output.startswith("PASS"), ok.output
    fail = cli("check", bad, "--min-grade", "A")
    assert fail.exit_code == 1 and fail.output.startswith("FAIL")
    assert cli("check", bad, "--min-grade", "D").exit_code == 0
    wrong = cli("check", clean, "--min-grade", "E")
    assert wrong.exit_code == 2 and "--min-grade" in wrong.output


def test_compare_shows_per_dimension_deltas(sessions, cli) -> None:
    clean, bad = sessions
    result = cli("compare", clean, bad)
    assert result.exit_code == 0, result.output
    rows = {line.split("|")[1].strip(): line for line in result.output.splitlines()
            if line.startswith("| ") and "Dimension" not in line}
    assert set(rows) == {"overall", "memory", "cpu", "processes", "gc", "cleanup"}
    assert rows["memory"].rstrip(" |").split("|")[-1].strip().startswith("-")
    doc = json.loads(cli("compare", clean, bad, "-f", "json").output)
    assert doc["dimensions"]["cleanup"]["delta"] < 0 and doc["dimensions"]["cpu"]["delta"] == 0


def test_config_override_changes_the_grade(sessions, cli, tmp_path: Path) -> None:
    clean, bad = sessions
    strict = tmp_path / "strict.toml"
    strict.write_text("[figures.cpu.load_peak_per_core]\np10 = 0.01\nmedian = 0.02\n")
    default = json.loads(cli("report", clean, "-f", "json").output)
    tight = json.loads(cli("report", clean, "-f", "json", "--config", str(strict)).output)
    assert tight["dimensions"]["cpu"]["score"] < default["dimensions"]["cpu"]["score"]
    assert tight["config_source"] == str(strict)
    bad_cfg = tmp_path / "bad.toml"
    bad_cfg.write_text("[figures.cpu.nope]\np10 = 1\n")
    result = cli("report", clean, "--config", str(bad_cfg))
    assert result.exit_code == 2 and "figures.cpu.nope" in result.output


def test_errors_name_what_is_missing(data_dir: Path, sessions, cli) -> None:
    empty = data_dir.parent / "empty"
    result = cli("report", "--data-dir", str(empty))
    assert result.exit_code == 2 and "swarmscope ingest" in result.output
    result = cli("report", "no-such-session")
    assert result.exit_code == 2 and "no-such-session" in result.output
    result = cli("report", "bench", "--format", "json")
    assert result.exit_code == 2 and "ambiguous" in result.output
    assert cli("report", "--format", "pdf").exit_code == 2


def test_session_without_process_data_is_graded_on_what_exists(data_dir: Path, cli) -> None:
    """A foreign producer's traces only: nothing is made up for what was not measured."""
    bench = _bench()
    rng = random.Random(5)
    sid = bench.write_session(data_dir, 7, rng)
    for f in (data_dir / "sdk").glob("metrics.*"):
        f.unlink()  # spans only: no process, system or GC data
    doc = json.loads(cli("report", sid, "-f", "json").output)
    dims = doc["dimensions"]
    for name in ("memory", "cpu", "processes", "gc"):
        assert dims[name]["score"] is None and dims[name]["grade"] == "n/a"
        assert dims[name]["assessment"] == "NOT MEASURED"
    assert dims["cleanup"]["score"] is not None  # the audit and terminate records exist
    assert any(n.startswith("gc") for n in doc["not_measured"])


def test_markdown_escaping_keeps_telemetry_inert() -> None:
    assert esc("a|b<script>\n`x`") == "a\\|b&lt;script&gt; \\`x\\`"


def test_register_adds_the_three_commands() -> None:
    app = typer.Typer()
    cli_report.register(app)
    names = {c.name for c in app.registered_commands}
    assert names == {"report", "check", "compare"}
