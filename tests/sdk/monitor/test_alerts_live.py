"""Live alerts on real processes under ``swarmscope run``: each condition is alerted once,
naming the process, recorded as a ``swarm_alert`` span event and handed to ``--on-alert``; the
look-alikes (a flat noisy memory series, a pool of workers of one name) are not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from otlp_files import span_events
from swarmscope import conventions as c

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"

# Thresholds a test can reach in seconds: short leak windows, short daemon ages.
FAST = """
[leak]
window = 40
min_samples = 12
min_seconds = 2.0
warmup_seconds = 0.5
confirm = 8
[duplicate_daemon]
min_age_seconds = 1.0
min_overlap_seconds = 1.0
[orphan]
grace_seconds = 0.5
"""


def write(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def run(tmp_path: Path, *cmd: str, extra: str = "", options: tuple[str, ...] = (),
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``swarmscope run -q`` at 0.2 s samples with the fast thresholds (plus ``extra``)."""
    thresholds = tmp_path / "alerts.toml"
    thresholds.write_text(FAST + extra)
    return subprocess.run(
        [str(SWARMSCOPE), "run", "-q", "--interval", "0.2", *options, "--", *cmd],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, c.ENV_ALERTS: str(thresholds), **(env or {})},
    )  # fmt: skip


def alert_lines(stderr: str, condition: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if line.startswith(f"swarmscope: ALERT {condition}:")]  # fmt: skip


FD_AND_ORPHAN = """
import os, resource, time
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(58)]  # 61 of 64 with 0, 1, 2
if os.fork() == 0:  # a double fork: the grandchild outlives its parent
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "4"])
    os._exit(0)
os.wait()
time.sleep(3)
"""


def test_fd_limit_and_orphan_alert_once_each_and_reach_on_alert(
    tmp_path: Path, data_dir: Path
) -> None:
    script = write(tmp_path, "fds.py", FD_AND_ORPHAN)
    heard = tmp_path / "heard.jsonl"
    result = run(tmp_path, "python3", script, options=("--on-alert", f"cat >> {heard}"))
    fd_lines = alert_lines(result.stderr, "fd_limit")
    assert len(fd_lines) == 1, result.stderr  # once, though it stays over the line for seconds
    assert re.search(r"pid \d+ \(python3 fds\.py\) has 61 of 64 file descriptors", fd_lines[0])
    orphan_lines = alert_lines(result.stderr, "orphan")
    assert len(orphan_lines) == 1 and "(sleep)" in orphan_lines[0], result.stderr
    documents = [json.loads(line) for line in heard.read_text().splitlines()]
    by_condition = {d["condition"]: d for d in documents}
    assert sorted(by_condition) == ["fd_limit", "orphan"] and len(documents) == 2
    fd = by_condition["fd_limit"]
    assert fd["agent"]["name"] == "python3 fds.py" and isinstance(fd["agent"]["pid"], int)
    assert fd["value"] == 61 / 64 and fd["threshold"] == 0.9 and fd["session_id"]
    assert by_condition["orphan"]["agent"]["name"] == "sleep"
    stored = [a for a in span_events(data_dir, c.EVENT_ALERT) if a[c.ALERT_CONDITION] == "fd_limit"]
    assert len(stored) == 1 and int(stored[0][c.PROCESS_PID]) == fd["agent"]["pid"]


LEAKER_AND_FLAT = """
import os, random, subprocess, sys, time
if sys.argv[1:] == ["leak"]:
    kept = []
    for _ in range(80):  # 3 MiB every 0.1 s, touched so it is resident
        kept.append(bytearray(os.urandom(1024)) * 3072)
        time.sleep(0.1)
elif sys.argv[1:] == ["flat"]:
    import mmap
    random.seed(7)
    for _ in range(80):  # 1-40 MiB held at random: noisy, no trend
        # mapped and unmapped directly: malloc would keep the largest block's memory after
        # its free (its mmap threshold rises), a real RSS rise in the first seconds
        size = random.randrange(1, 41) * 1024 * 1024
        block = mmap.mmap(-1, size)
        for offset in range(0, size, 4096):
            block[offset] = 1  # resident
        time.sleep(0.1)
        block.close()
else:
    children = [subprocess.Popen([sys.executable, __file__, kind]) for kind in ("leak", "flat")]
    for child in children:
        child.wait()
"""


def test_a_steady_leak_alerts_naming_it_and_a_flat_noisy_series_does_not(
    tmp_path: Path, data_dir: Path
) -> None:
    script = write(tmp_path, "mem.py", LEAKER_AND_FLAT)
    result = run(tmp_path, "python3", script)
    leaks = alert_lines(result.stderr, "leak")
    assert len(leaks) == 1, result.stderr
    assert "(python3 mem.py leak) rss grows" in leaks[0]
    stored = [a for a in span_events(data_dir, c.EVENT_ALERT) if a[c.ALERT_CONDITION] == "leak"]
    assert [a[c.GEN_AI_AGENT_NAME] for a in stored] == ["python3 mem.py leak"]
    assert stored[0][c.ALERT_SERIES] == "rss" and float(stored[0][c.ALERT_VALUE]) > 0
    top = subprocess.run([str(SWARMSCOPE), "top", "-d", str(data_dir), "--format", "json"],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert top.returncode == 0, top.stderr
    shown = [f for f in json.loads(top.stdout)["findings"] if f["kind"] == "leak"]
    assert [(f["agent"], f["alerted"]) for f in shown] == [("python3 mem.py leak", True)], shown


HUNG = """
import subprocess, sys, time
# a worker reading stdin that this parent keeps open and never writes to
worker = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE)
time.sleep(3.5)
worker.kill()
"""


def test_a_hung_worker_alerts_once(tmp_path: Path) -> None:
    script = write(tmp_path, "hung.py", HUNG)
    result = run(tmp_path, "python3", script, env={c.ENV_HUNG_AFTER: "1"})
    lines = alert_lines(result.stderr, "hung")
    assert len(lines) == 1, result.stderr
    assert "(python3 -c) looks hung" in lines[0] and "stdin" in lines[0]
    # said twice in all: the alert while it ran, and the list of the hung when it ended
    said = [line for line in result.stderr.splitlines() if "(python3 -c)" in line]
    assert len(said) == 2 and "ALERT" in said[0] and "hung: pid" in said[1], result.stderr


DAEMONS_AND_POOL = """
import os, subprocess, sys, time
def detached(*argv):  # started, then left to init: the way a daemon goes
    if os.fork() == 0:
        if os.fork() == 0:
            os.execvp(argv[0], list(argv))
        os._exit(0)
    os.wait()
daemon = os.path.join(os.path.dirname(__file__), "daemon.py")
detached(sys.executable, daemon)
detached(sys.executable, daemon)
pool = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)", "worker"])
        for _ in range(3)]
time.sleep(3)
"""


def test_two_detached_daemons_of_one_name_alert_but_a_worker_pool_does_not(
    tmp_path: Path,
) -> None:
    write(tmp_path, "daemon.py", "import time\ntime.sleep(3.5)\n")
    script = write(tmp_path, "daemons.py", DAEMONS_AND_POOL)
    result = run(tmp_path, "python3", script)
    lines = alert_lines(result.stderr, "duplicate_daemon")
    assert len(lines) == 1, result.stderr  # the pool of three "python3 -c" workers is not
    assert "two python3 daemon.py processes alive" in lines[0]


def test_system_memory_over_a_lowered_line_alerts_once_and_a_failing_command_is_told_once(
    tmp_path: Path,
) -> None:
    script = write(tmp_path, "idle.py", "import time\ntime.sleep(1.5)\n")
    result = run(tmp_path, "python3", script, extra="[system_memory]\nutilization = 0.01\n",
                 options=("--on-alert", "cat > /dev/null; exit 3"))  # fmt: skip
    assert len(alert_lines(result.stderr, "system_memory")) == 1, result.stderr
    told = [line for line in result.stderr.splitlines() if "on-alert command" in line]
    assert len(told) == 1 and "exited with status 3" in told[0]
    assert result.returncode == 0  # the program's status, whatever the alerts


def test_a_bad_thresholds_file_stops_run_before_the_program_with_a_message(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "started"
    result = run(tmp_path, "touch", str(marker), extra="[fds]\nshare_of_limit = 1.5\n")
    assert result.returncode == 2 and not marker.exists()
    assert "SWARMSCOPE_ALERTS" in result.stderr and "fds.share_of_limit" in result.stderr
    assert "Traceback" not in result.stderr


INSTRUMENTED = """
import time
import swarmscope
swarmscope.init(sample_interval=0.2)
time.sleep(1.5)
swarmscope.shutdown()
"""


def test_an_instrumented_program_alerts_by_itself_and_runs_swarmscope_on_alert(
    tmp_path: Path, data_dir: Path
) -> None:
    """No watcher: the SDK's own monitor judges, SWARMSCOPE_ON_ALERT hears of it."""
    script = write(tmp_path, "agent.py", INSTRUMENTED)
    thresholds = tmp_path / "alerts.toml"
    thresholds.write_text("[system_memory]\nutilization = 0.01\n")
    heard = tmp_path / "heard.jsonl"
    result = subprocess.run(
        [sys.executable, script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, c.ENV_ALERTS: str(thresholds), c.ENV_ON_ALERT: f"cat >> {heard}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(alert_lines(result.stderr, "system_memory")) == 1, result.stderr
    (document,) = [json.loads(line) for line in heard.read_text().splitlines()]
    assert document["condition"] == "system_memory" and document["threshold"] == 0.01
    assert 0.01 <= document["value"] <= 1 and document["session_id"]
    assert [a[c.ALERT_CONDITION] for a in span_events(data_dir, c.EVENT_ALERT)] == ["system_memory"]
