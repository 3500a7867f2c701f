"""The report lists what a session alerted on while it ran (a Markdown section, a JSON list);
a session without alerts has no such section."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
NEAR_THE_LIMIT = """
import os, resource, time
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(58)]
time.sleep(2)
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SWARMSCOPE), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))  # fmt: skip


def test_report_lists_the_alerts_of_the_session(tmp_path: Path, data_dir: Path) -> None:
    script = tmp_path / "limit.py"
    script.write_text(NEAR_THE_LIMIT)
    run = _cli("run", "-q", "--interval", "0.5", "--", "python3", script.name, cwd=tmp_path)
    assert run.returncode == 0 and "ALERT fd_limit" in run.stderr, run.stderr
    md = _cli("report", cwd=tmp_path)
    assert md.returncode == 0, md.stderr
    assert md.stdout.count("## Alerts while it ran") == 1
    section = md.stdout.split("## Alerts while it ran", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in section.splitlines() if "fd_limit" in line]
    assert "| python3 limit.py |" in row and "| 95.3 % | 90.0 % |" in row
    report = json.loads(_cli("report", "-f", "json", cwd=tmp_path).stdout)
    (alert,) = report["alerts"]
    assert alert["condition"] == "fd_limit" and alert["value"] == 61 / 64
    assert alert["agent_name"] == "python3 limit.py" and alert["ts_ns"] > 0


def test_a_session_without_alerts_has_no_alerts_section(tmp_path: Path, data_dir: Path) -> None:
    run = _cli("run", "-q", "--interval", "0.5", "--", "python3", "-c", "pass", cwd=tmp_path)
    assert run.returncode == 0 and "ALERT" not in run.stderr
    md = _cli("report", cwd=tmp_path)
    assert md.returncode == 0 and "## Alerts" not in md.stdout
    assert json.loads(_cli("report", "-f", "json", cwd=tmp_path).stdout)["alerts"] == []
