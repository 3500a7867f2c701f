"""Hung workers: blocked reading a pipe nobody writes or closes, versus workers that wait
politely for their next task."""

from __future__ import annotations

import sys
from pathlib import Path

from otlp_files import audit_events, by_operation, load_spans
from swarmscope import conventions as c
from watch_helpers import run, write

HUNG_AFTER = "1"

# The orchestrator holds the worker's stdin open and never writes: the classic hang.
NEVER_WRITES = """
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE)
print(worker.pid, flush=True)
time.sleep(3)
worker.stdin.close()  # EOF at last: the worker ends and the run is clean otherwise
worker.wait()
"""

# One worker gets a task every 0.3 s on stdin; another waits on a timer.
POLITE = """
import subprocess, sys, time
reader = "import sys\\nfor line in sys.stdin:\\n    pass\\n"
worker = subprocess.Popen([sys.executable, "-c", reader], stdin=subprocess.PIPE)
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
for _ in range(10):
    worker.stdin.write(b"task\\n")
    worker.stdin.flush()
    time.sleep(0.3)
worker.stdin.close()
worker.wait()
sleeper.wait()
"""


def test_worker_blocked_on_stdin_is_reported_hung(tmp_path: Path, data_dir: Path) -> None:
    script = write(tmp_path, "orchestrator.py", NEVER_WRITES)
    result = run(tmp_path, sys.executable, script, env={c.ENV_HUNG_AFTER: HUNG_AFTER})
    assert result.returncode == 0, result.stderr
    worker = int(result.stdout.split()[0])
    spans = load_spans(data_dir)
    (hung,) = audit_events(spans, c.EVENT_HUNG)
    orchestrator = next(
        s for s in by_operation(spans, c.Operation.CREATE_AGENT)
        if s.attrs[c.GEN_AI_AGENT_NAME].endswith(" orchestrator.py")
    )
    assert hung[c.PROCESS_PID] == worker
    assert hung[c.GEN_AI_AGENT_NAME].endswith(" -c")  # python -c
    assert hung[c.AGENT_INSTANCE_ID]
    assert hung[c.WAIT_FD] == 0 and hung[c.HOLDER_PID] == orchestrator.pid
    assert "stdin pipe (fd 0)" in hung[c.WAITING_ON]
    holder = orchestrator.attrs[c.GEN_AI_AGENT_NAME]
    assert f"write end held by pid {orchestrator.pid} ({holder})" in hung[c.WAITING_ON]
    assert hung[c.IDLE_SECONDS] >= float(HUNG_AFTER)
    assert f"pid {worker}" in result.stderr and "looks hung" in result.stderr


def test_worker_waiting_politely_for_work_is_not_hung(tmp_path: Path, data_dir: Path) -> None:
    script = write(tmp_path, "polite.py", POLITE)
    result = run(tmp_path, sys.executable, script, env={c.ENV_HUNG_AFTER: HUNG_AFTER})
    assert result.returncode == 0, result.stderr
    spans = load_spans(data_dir)
    assert len(by_operation(spans, c.Operation.CREATE_AGENT)) == 3
    assert not audit_events(spans, c.EVENT_HUNG), result.stderr
    assert "hung" not in result.stderr
