"""The mesh swarm demo, shortened to a few seconds: every agent spawned, busy and terminated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from otlp_files import by_name, load_spans, metric_names, sdk_files
from swarmscope import conventions as c
from swarmscope.cli.demo import run_demo


def test_run_demo_records_a_whole_mesh_session(tmp_path: Path) -> None:
    data_dir = run_demo(tmp_path / "demo-data", agents=3, duration=2.5, sample_interval=0.25,
                        finish_tasks=True)
    assert data_dir == (tmp_path / "demo-data").absolute()
    found = load_spans(data_dir)

    creates = [s for s in found if s.attrs.get(c.GEN_AI_OPERATION_NAME) == "create_agent"]
    terminates = [s for s in found if s.attrs.get(c.GEN_AI_OPERATION_NAME) == "terminate_agent"]
    tasks = [s for s in found if s.attrs.get(c.GEN_AI_OPERATION_NAME) == "invoke_agent"]
    assert len(creates) == len(terminates) == 3
    assert {t.attrs[c.TERMINATION_REASON] for t in terminates} == {"graceful"}
    agent_ids = {s.attrs[c.AGENT_INSTANCE_ID] for s in creates}
    assert {t.attrs[c.AGENT_INSTANCE_ID] for t in tasks} == agent_ids
    assert len(tasks) >= 3 * 2  # several tasks each
    assert all(t.status_code != 2 for t in tasks)
    assert len({s.resource[c.SESSION_ID] for s in found}) == 1
    assert creates[0].resource[c.SWARM_TOPOLOGY] == "mesh"
    assert creates[0].resource[c.SWARM_STRATEGY] == "balanced"
    assert by_name(found, c.SPAN_CLEANUP_AUDIT)[0].events == []  # nothing left behind
    # one file per process and signal: the orchestrator plus each agent
    assert len(sdk_files(data_dir, "traces")) == len(sdk_files(data_dir, "metrics")) == 4
    assert c.PROCESS_MEMORY_USAGE in metric_names(data_dir)


def test_demo_command_says_where_the_files_went(tmp_path: Path) -> None:
    swarmscope_cli = Path(sys.executable).with_name("swarmscope")
    target = tmp_path / "cli-data"
    result = subprocess.run(
        [str(swarmscope_cli), "demo", "--data-dir", str(target), "--agents", "2",
         "--duration", "1.5"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(target / "sdk") in result.stdout
    assert "graceful" in result.stdout
    assert len(sdk_files(target, "traces")) == 3


def test_demo_rejects_a_bad_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    swarmscope_cli = Path(sys.executable).with_name("swarmscope")
    result = subprocess.run(
        [str(swarmscope_cli), "demo", "--data-dir", str(blocker), "--duration", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert c.ENV_DATA_DIR in result.stdout + result.stderr
