"""Watched processes are marked agents or helpers, with what the analyzer needs to group
helpers under the agent that ran them: the role, the parent pid and the parent span."""

from __future__ import annotations

import sys
from pathlib import Path

from otlp_files import by_operation, load_spans
from swarmscope import conventions as c
from watch_helpers import run, write

ORCHESTRATOR = """
import subprocess, sys
subprocess.run(["ps", "-o", "pid="], stdout=subprocess.DEVNULL)
subprocess.run(["sh", "-c", "which sleep >/dev/null; sleep 0.2"])
subprocess.run([sys.executable, "worker.py", "--api-key=sk-abcdefghijklmnopqrstu"])
"""


def test_helpers_and_agents_are_marked_under_their_agent(tmp_path: Path, data_dir: Path) -> None:
    write(tmp_path, "worker.py", "import time; time.sleep(0.3)\n")
    script = write(tmp_path, "orchestrator.py", ORCHESTRATOR)
    result = run(tmp_path, sys.executable, script)
    assert result.returncode == 0, result.stderr
    created = by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
    by_name = {s.attrs[c.GEN_AI_AGENT_NAME].split(" ", 1)[-1]: s for s in created}
    root = by_name["orchestrator.py"]
    worker = by_name["worker.py"]
    shell = next(s for s in created if s.attrs[c.GEN_AI_AGENT_NAME] == "sh -c")
    ps = next(s for s in created if s.attrs[c.GEN_AI_AGENT_NAME].startswith("ps"))
    assert root.attrs[c.AGENT_ROLE] == worker.attrs[c.AGENT_ROLE] == c.AgentRole.AGENT
    for helper in (ps, shell):
        assert helper.attrs[c.AGENT_ROLE] == c.AgentRole.HELPER
        assert helper.attrs[c.PROCESS_PARENT_PID] == root.pid
        assert helper.parent_id == root.span_id
    # the shell's own children are helpers under the shell
    sleeps = [s for s in created if s.attrs[c.GEN_AI_AGENT_NAME] == "sleep"]
    assert sleeps and all(s.attrs[c.PROCESS_PARENT_PID] == shell.pid for s in sleeps)
    assert all(s.attrs[c.AGENT_ROLE] == c.AgentRole.HELPER for s in sleeps)
    # no option value reaches a name
    assert not any("sk-" in s.attrs[c.GEN_AI_AGENT_NAME] for s in created)
