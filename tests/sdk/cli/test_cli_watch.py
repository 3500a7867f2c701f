"""``swarmscope run`` / ``attach`` take the shared options: ``-d`` as everywhere, an example
in each ``--help``, and the shell's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from otlp_files import by_operation, load_spans
from swarmscope import conventions as c

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"


def _swarmscope(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SWARMSCOPE), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


@pytest.mark.parametrize("flag", ["-d", "--data-dir"])
def test_run_writes_where_the_data_dir_option_says(flag: str, tmp_path: Path) -> None:
    result = _swarmscope("run", "-q", flag, "elsewhere", "--", "sh", "-c", "exit 3", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    (create,) = by_operation(load_spans(tmp_path / "elsewhere"), c.Operation.CREATE_AGENT)
    assert create.attrs[c.GEN_AI_AGENT_NAME] == "sh -c"


@pytest.mark.parametrize("command", ["run", "attach"])
def test_help_shows_an_example(command: str, tmp_path: Path) -> None:
    result = _swarmscope(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert f"Example: swarmscope {command}" in result.stdout
    assert "--data-dir" in result.stdout and "-d" in result.stdout


def test_attach_to_a_missing_process_fails_with_1(tmp_path: Path) -> None:
    result = _swarmscope("attach", "999999999", cwd=tmp_path)
    assert result.returncode == 1 and "no process with pid" in result.stderr


LEAVES_A_DAEMON = (
    "import subprocess, sys; subprocess.Popen(['sleep', '30'], start_new_session=True, "
    "stdout=subprocess.DEVNULL); sys.exit(5)"
)


def test_run_reap_ends_leftovers_and_keeps_the_programs_exit_code(tmp_path: Path) -> None:
    result = _swarmscope("run", "-q", "--reap", "--reap-timeout", "1", "--", sys.executable,
                         "-c", LEAVES_A_DAEMON, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "left behind" in result.stderr and "reaped pid" in result.stderr
    spans = load_spans(tmp_path / "swarmscope-data")
    orphans = [e for s in spans if s.name == c.SPAN_CLEANUP_AUDIT for n, e in s.events
               if n == c.EVENT_ORPHAN]  # fmt: skip
    (reaped,) = [s for s in by_operation(spans, c.Operation.TERMINATE_AGENT)
                 if s.attrs.get(c.REAPED)]  # fmt: skip
    assert [o[c.PROCESS_PID] for o in orphans] == [reaped.pid]


def test_run_report_json_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = _swarmscope("run", "--report", str(out), "--", "sh", "-c", "sleep 0.3; exit 4",
                         cwd=tmp_path)  # fmt: skip
    assert result.returncode == 4, result.stderr
    report = json.loads(out.read_text())
    assert "overall" in report and "dimensions" in report
    assert report["overall"]["grade"] in result.stderr  # the summary, on stderr
    assert result.stdout == ""  # stdout stays the program's


def test_run_quiet_prints_no_summary(tmp_path: Path) -> None:
    result = _swarmscope("run", "--quiet", "--", "true", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""


@pytest.mark.parametrize(("command", "code"), [("/etc/passwd", 126), ("no-such-cmd-x", 127)])
def test_run_exit_codes_like_a_shell(tmp_path: Path, command: str, code: int) -> None:
    result = _swarmscope("run", "-q", "--", command, cwd=tmp_path)
    assert result.returncode == code and command in result.stderr
