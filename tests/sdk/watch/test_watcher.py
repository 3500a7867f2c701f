"""`swarmscope run` / `swarmscope attach` on real programs: Node.js, double forks, signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from otlp_files import audit_events, by_operation, load_spans
from swarmscope import conventions as c
from swarmscope import procfs
from swarmscope.watch.leftovers import describe
from watch_helpers import events_available

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
NODE = shutil.which("node")


def _run(
    tmp_path: Path, *cmd: str, events: bool | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``swarmscope run``; events=False: /proc scans only (what unprivileged users get)."""
    flags = [] if events is None else ["--events" if events else "--no-events"]
    return subprocess.run(
        [str(SWARMSCOPE), "run", "--quiet", "--interval", "0.2", *flags, "--", *cmd],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _write(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


NODE_PROGRAM = """
const { spawn } = require("child_process");
const children = [
  spawn("sleep", ["0.3"]),
  spawn("sh", ["-c", "sleep 0.2; exit 5"]),
  spawn(process.execPath, ["-e", "setTimeout(() => {}, 250)"]),
];
let left = children.length;
const codes = {};
for (const child of children) {
  child.on("exit", (code, sig) => {
    codes[child.pid] = code;
    if (--left === 0) {
      console.log(JSON.stringify({ pids: children.map((c) => c.pid), codes }));
      process.exit(0);
    }
  });
}
"""


@pytest.mark.skipif(NODE is None, reason="needs node")
@pytest.mark.parametrize("events", [None, False], ids=["default", "scans-only"])
def test_node_program_children_are_seen_and_reaped(
    tmp_path: Path, data_dir: Path, events: bool | None
) -> None:
    result = _run(tmp_path, NODE, _write(tmp_path, "swarm.js", NODE_PROGRAM), events=events)
    assert result.returncode == 0, result.stderr
    pids = set(json.loads(result.stdout)["pids"])

    spans = load_spans(data_dir)
    created = {s.pid: s for s in by_operation(spans, c.Operation.CREATE_AGENT)}
    ended = {s.pid: s for s in by_operation(spans, c.Operation.TERMINATE_AGENT)}
    # named after the script it runs, not the runtime
    root = next(s for s in created.values() if s.attrs[c.GEN_AI_AGENT_NAME] == "swarm")
    assert pids <= set(created), "every child of the node program gets a create_agent span"
    assert set(created) == set(ended), "and a terminate_agent span once it is gone"
    for pid in pids:
        assert created[pid].attrs[c.PROCESS_PARENT_PID] == root.pid
        assert created[pid].parent_id == root.span_id
    assert ended[root.pid].attrs[c.PROCESS_EXIT_CODE] == 0
    assert len({s.session_id for s in spans}) == 1 and len({s.trace_id for s in spans}) == 1
    assert not audit_events(spans, c.EVENT_ORPHAN) and not audit_events(spans, c.EVENT_ZOMBIE)


DOUBLE_FORK = """
import os, sys, time
child = os.fork()
if child == 0:
    grandchild = os.fork()
    if grandchild == 0:  # a daemon: detached from our stdio, reparented once its parent exits
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execvp("sleep", ["sleep", "60"])
    with open("orphan.pid", "w") as f:
        f.write(str(grandchild))
    time.sleep(float(sys.argv[1]))
    os._exit(0)
os.waitpid(child, 0)
time.sleep(0.2)  # the orphan is alive, its parent gone
"""


@pytest.mark.parametrize("linger", ["0.3", "0"])
def test_double_fork_orphan_is_found_and_reported(
    tmp_path: Path, data_dir: Path, linger: str
) -> None:
    """With linger 0 the middle process lives for microseconds, usually between two scans: the
    orphan is then found through the session id in its environment, not through its parent."""
    try:
        script = _write(tmp_path, "daemonize.py", DOUBLE_FORK)
        # scans only: with linger 0 nothing but the marker can find the orphan
        result = _run(tmp_path, sys.executable, script, linger, events=False)
        pid = int((tmp_path / "orphan.pid").read_text())
        assert result.returncode == 0, result.stderr
        spans = load_spans(data_dir)
        orphans = audit_events(spans, c.EVENT_ORPHAN)
        assert len(orphans) == 1, result.stderr
        orphan = orphans[0]
        assert orphan[c.PROCESS_PID] == pid
        assert orphan[c.PROCESS_EXECUTABLE_NAME] == "sleep"
        assert orphan[c.PROCESS_AGE] > 0
        assert orphan[c.PROCESS_PARENT_PID] != os.getpid()
        # on stderr as a table: pid, state and command
        row = next(line for line in result.stderr.splitlines() if line.startswith(str(pid)))
        assert "orphan" in row and "sleep" in row
        created = by_operation(spans, c.Operation.CREATE_AGENT)
        assert pid in {s.pid for s in created}
        if linger != "0":  # every process seen: python, its forked child, the grandchild
            assert len(created) == 3
    finally:
        pid_file = tmp_path / "orphan.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


KILLED_CHILD = """
import subprocess, time
child = subprocess.Popen(["sleep", "30"])
time.sleep(0.3)
child.kill()
time.sleep(0.5)   # unreaped for a moment: the watcher reads its status from /proc
print(child.pid, child.wait(), flush=True)
"""


@pytest.mark.parametrize("events", [None, False], ids=["default", "scans-only"])
def test_child_killed_by_sigkill_is_recorded_with_its_signal(
    tmp_path: Path, data_dir: Path, events: bool | None
) -> None:
    script = _write(tmp_path, "kill.py", KILLED_CHILD)
    result = _run(tmp_path, sys.executable, script, events=events)
    assert result.returncode == 0, result.stderr
    pid, code = (int(x) for x in result.stdout.split())
    assert code == -signal.SIGKILL
    ended = {s.pid: s for s in by_operation(load_spans(data_dir), c.Operation.TERMINATE_AGENT)}
    attrs = ended[pid].attrs
    assert attrs[c.EXIT_SIGNAL] == signal.SIGKILL
    assert attrs[c.PROCESS_EXIT_CODE] == -signal.SIGKILL
    assert attrs[c.TERMINATION_REASON] == c.TerminationReason.SIGNAL


def test_exit_code_and_signal_of_the_program_pass_through(tmp_path: Path, data_dir: Path) -> None:
    assert _run(tmp_path, "sh", "-c", "exit 7").returncode == 7
    killed = _run(tmp_path, "sh", "-c", "kill -9 $$")
    assert killed.returncode == 128 + signal.SIGKILL
    ended = by_operation(load_spans(data_dir), c.Operation.TERMINATE_AGENT)
    codes = sorted(s.attrs[c.PROCESS_EXIT_CODE] for s in ended)
    assert codes == [-signal.SIGKILL, 7]
    (sig,) = [s.attrs.get(c.EXIT_SIGNAL) for s in ended if s.attrs.get(c.EXIT_SIGNAL)]
    assert sig == signal.SIGKILL


INTERRUPTIBLE = """
import signal, sys, time
def stop(signum, frame):
    print("got", signum, flush=True)
    sys.exit(42)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
time.sleep(60)
"""


def test_sigint_reaches_the_program_and_files_are_flushed(tmp_path: Path, data_dir: Path) -> None:
    script = _write(tmp_path, "wait.py", INTERRUPTIBLE)
    proc = subprocess.Popen(
        [str(SWARMSCOPE), "run", "-q", "--interval", "0.2", "--", sys.executable, script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # let a scan see the program
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 42, err
    assert out.strip() == f"got {int(signal.SIGINT)}"
    spans = load_spans(data_dir)
    (end,) = by_operation(spans, c.Operation.TERMINATE_AGENT)
    assert end.attrs[c.PROCESS_EXIT_CODE] == 42
    assert any(p.name.startswith("metrics.") for p in (data_dir / "sdk").iterdir())


def test_attach_follows_a_running_process(tmp_path: Path, data_dir: Path) -> None:
    go = tmp_path / "go"
    # The shell waits for the test's go (not a fixed time): the watcher may take seconds to
    # start on a busy machine, and the sleep must start while it is attached.
    script = f'while [ ! -e "{go}" ]; do sleep 0.05; done; sleep 0.2; exit 0'
    target = subprocess.Popen(["sh", "-c", script])
    attach = subprocess.Popen(
        [str(SWARMSCOPE), "attach", "--interval", "0.2", str(target.pid)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list((data_dir / "watch").glob("*.owner")) and time.monotonic() < deadline:
            time.sleep(0.05)  # the watcher writes its owner file as it attaches
        go.touch()
        _out, err = attach.communicate(timeout=60)
    finally:
        target.wait(timeout=60)
        if attach.poll() is None:
            attach.kill()
    assert attach.returncode == 0, err
    created = by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
    names = [s.attrs[c.GEN_AI_AGENT_NAME] for s in created]
    # the sh already running, and the sleep it started while attached
    assert names[0] == "sh -c" and "sleep" in names[1:]
    assert all(s.parent_id == created[0].span_id for s in created[1:])


@pytest.mark.skipif(not events_available(), reason="proc connector needs CAP_NET_ADMIN")
def test_process_events_see_millisecond_processes_with_their_exit_codes(
    tmp_path: Path, data_dir: Path
) -> None:
    script = 'for i in 1 2 3 4 5; do sh -c "exit $i"; done; exit 0'
    result = _run(tmp_path, "sh", "-c", script, events=True)
    assert result.returncode == 0, result.stderr
    spans = load_spans(data_dir)
    created = by_operation(spans, c.Operation.CREATE_AGENT)
    ended = by_operation(spans, c.Operation.TERMINATE_AGENT)
    assert len(created) == len(ended) == 6  # the shell and its five short children
    codes = sorted(s.attrs.get(c.PROCESS_EXIT_CODE) for s in ended)
    assert codes == [0, 1, 2, 3, 4, 5]


DAEMON_WITH_ZOMBIE = """
import os, sys, time
if os.fork() == 0:
    if os.fork() == 0:  # the daemon
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with open("daemon.pid", "w") as f:
            f.write(str(os.getpid()))
        if os.fork() == 0:
            os._exit(3)  # its child: exits, and the daemon never reaps it
        time.sleep(60)
        os._exit(0)
    os._exit(0)
os.wait()
time.sleep(0.5)
"""


@pytest.mark.parametrize("events", [None, False], ids=["default", "scans-only"])
def test_zombie_left_by_a_daemon_is_reported_with_its_status(
    tmp_path: Path, data_dir: Path, events: bool | None
) -> None:
    script = _write(tmp_path, "zombie.py", DAEMON_WITH_ZOMBIE)
    try:
        result = _run(tmp_path, sys.executable, script, events=events)
        daemon = int((tmp_path / "daemon.pid").read_text())
    finally:
        pid_file = tmp_path / "daemon.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)  # its zombie goes with it
    assert result.returncode == 0, result.stderr
    spans = load_spans(data_dir)
    (orphan,) = audit_events(spans, c.EVENT_ORPHAN)
    (zombie,) = audit_events(spans, c.EVENT_ZOMBIE)
    assert orphan[c.PROCESS_PID] == daemon
    assert zombie[c.PROCESS_PARENT_PID] == daemon
    assert "zombie" in result.stderr and "orphan" in result.stderr
    ended = {s.pid: s for s in by_operation(spans, c.Operation.TERMINATE_AGENT)}
    assert ended[zombie[c.PROCESS_PID]].attrs[c.PROCESS_EXIT_CODE] == 3


def test_bad_command_and_bad_pattern_fail_clearly(tmp_path: Path) -> None:
    missing = _run(tmp_path, str(tmp_path / "no-such-program"))
    assert missing.returncode == 127
    assert "cannot start" in missing.stderr and "no-such-program" in missing.stderr
    bad = subprocess.run(
        [str(SWARMSCOPE), "run", "-q", "--", "true"],
        env={**os.environ, c.ENV_AGENT_PATTERN: "("},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and c.ENV_AGENT_PATTERN in bad.stderr


def test_instrumented_python_program_reports_into_the_watchers_session_and_trace(
    tmp_path: Path, data_dir: Path
) -> None:
    script = _write(
        tmp_path,
        "agent.py",
        """
        import swarmscope
        swarmscope.init()
        with swarmscope.task("work"):
            pass
        """,
    )
    result = _run(tmp_path, sys.executable, script)
    assert result.returncode == 0, result.stderr
    spans = load_spans(data_dir)
    (root,) = by_operation(spans, c.Operation.CREATE_AGENT)
    (work,) = by_operation(spans, c.Operation.INVOKE_AGENT)
    assert work.session_id == root.session_id
    assert work.trace_id == root.trace_id and work.parent_id == root.span_id
    assert work.attrs[c.AGENT_INSTANCE_ID] == root.attrs[c.AGENT_INSTANCE_ID]
    assert work.file != root.file  # written by the program itself


def test_observed_ends_carry_exit_time_and_the_instance_id(tmp_path: Path, data_dir: Path) -> None:
    from datetime import datetime

    started = datetime.now().astimezone()
    result = _run(tmp_path, "sh", "-c", "sleep 0.2 & wait; exit 4", events=False)
    assert result.returncode == 4, result.stderr
    spans = load_spans(data_dir)
    ended = by_operation(spans, c.Operation.TERMINATE_AGENT)
    assert len(ended) == 2 and 4 in {s.attrs.get(c.PROCESS_EXIT_CODE) for s in ended}
    for span in ended:  # the end is seen even where the status is not (sleep, reaped by sh)
        exit_time = datetime.fromisoformat(span.attrs[c.PROCESS_EXIT_TIME])
        assert started <= exit_time <= datetime.now().astimezone()
    for span in spans:
        if c.GEN_AI_OPERATION_NAME in span.attrs:
            assert c.AGENT_INSTANCE_ID in span.attrs and c.GEN_AI_AGENT_ID not in span.attrs


def test_a_leftover_is_named_after_the_program_it_runs_now() -> None:
    """A child starved of CPU between fork and exec is recorded under its parent's name; once
    it runs another program the leftover table names that program, while a process still
    running what it was named after keeps its recorded name."""
    proc = subprocess.Popen(["sleep", "30"])
    try:
        for _ in range(100):  # until the exec has happened
            if procfs.read_cmdline(proc.pid)[:1] == ["sleep"]:
                break
            time.sleep(0.02)
        stat = procfs.read_stat(proc.pid)
        assert describe(stat, name="python3 daemonize.py").name == "sleep"
        assert describe(stat, name="sleep (the daemon)").name == "sleep (the daemon)"
        assert describe(stat).name == "sleep"
    finally:
        proc.kill()
        proc.wait()
