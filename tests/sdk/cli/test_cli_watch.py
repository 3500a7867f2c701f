"""``swarmscope run`` / ``attach`` take the shared options: ``-d`` as everywhere, an example
in each ``--help``, and the shell's exit codes."""

from __future__ import annotations

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
