"""The HTML report: one offline file whose charts really draw in headless Chromium, with every
telemetry string kept as text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.grading.session import grade_session
from swarmscope.analyzer.report_html import render_html
from swarmscope.analyzer.session_data import LeftoverRecord
from test_grading_session import MIB, make_session

EVIL = "<script>alert(1)</script>"


def dump_dom(html_file: Path, profile: Path) -> str:
    """The DOM after scripts ran, as headless Chromium sees the file (no network)."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (make browser)")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
         "--dump-dom", html_file.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def page() -> str:
    data = make_session([{"name": EVIL, "rss_slope": 5 * MIB}, {"name": "calm"}])
    data.cleanup = [LeftoverRecord("orphan", 4242, 1, "agent-0", "sleep </td><b>60", 2.0, None)]
    return render_html(grade_session(data, load_config()))


def test_file_is_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<link" not in page
    assert page.count("<svg") == 5  # four timeline charts and the lifetime chart


def test_telemetry_strings_are_escaped_in_markup(page: str) -> None:
    assert EVIL not in page  # neither in markup nor in the chart data block
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</td><b>60" not in page
    assert "\\u003cscript\\u003e" in page  # the JSON block keeps the name, inert


@pytest.mark.browser
def test_charts_render_in_headless_chromium(page: str, tmp_path: Path) -> None:
    html_file = tmp_path / "report.html"
    html_file.write_text(page)
    dom = dump_dom(html_file, tmp_path / "profile")
    assert 'data-charts="rendered"' in dom
    charts = re.findall(r'<svg class="chart"[^>]*data-rendered="(\w+)"', dom)
    assert charts == ["true"] * 4
    assert len(re.findall(r'<path[^>]*class="series"', dom)) >= 5
    assert len(re.findall(r'class="marker spawn"', dom)) == 4 * 2  # 2 agents x 4 charts
    assert len(re.findall(r'class="marker terminate"', dom)) == 4 * 2
    # the agent's name is text everywhere: in tables, findings and the markers' titles
    assert "<script>alert(1)</script>" not in dom
    assert dom.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5
    scripts = re.findall(r"<script\b", dom)
    assert len(scripts) == 2  # the data block and the chart code, nothing injected
