"""The resource monitor against ground truth: real child processes that allocate memory, open
files, start threads, spawn grandchildren, exit, and linger as zombies."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import psutil
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from swarmscope.monitor.sampler import DENIED, GONE, RUNNING, ZOMBIE, ProcessSample, ResourceMonitor

MiB = 2**20

# A child that obeys one command per stdin line and answers "ok" when done, so the test can
# sample before and after a known change.
CHILD = textwrap.dedent(
    """
    import os, subprocess, sys, threading, time
    keep = []
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "alloc":      # bytes, every page written so it is resident
            keep.append(b"x" * int(arg))
        elif cmd == "open":     # n files
            keep.extend(open(os.devnull) for _ in range(int(arg)))
        elif cmd == "threads":  # n idle threads
            ev = threading.Event(); keep.append(ev)
            for _ in range(int(arg)):
                threading.Thread(target=ev.wait, daemon=True).start()
        elif cmd == "spawn":    # a grandchild that sleeps
            keep.append(subprocess.Popen(["sleep", "60"]))
            print(keep[-1].pid, flush=True); continue
        elif cmd == "burn":     # seconds of CPU
            end = time.process_time() + float(arg)
            while time.process_time() < end:
                pass
        print("ok", flush=True)
    """
)


class Child:
    def __init__(self) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.pid = self.popen.pid
        # Wait until the interpreter has started: while it imports, it holds files open briefly.
        assert self.do("ping") == "ok"

    def do(self, command: str) -> str:
        assert self.popen.stdin and self.popen.stdout
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()
        return self.popen.stdout.readline().strip()

    def close(self) -> None:
        for proc in _descendants(self.pid):
            proc.kill()
        self.popen.kill()
        self.popen.wait()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


@pytest.fixture
def child() -> Iterator[Child]:
    c = Child()
    yield c
    c.close()


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def monitor(reader: InMemoryMetricReader) -> Iterator[ResourceMonitor]:
    provider = MeterProvider(metric_readers=[reader])
    mon = ResourceMonitor(provider.get_meter("test"), interval=0.1)
    yield mon
    mon.stop()
    provider.shutdown()


def by_pid(samples: list[ProcessSample], pid: int) -> ProcessSample:
    [sample] = [s for s in samples if s.pid == pid]
    return sample


# --- ground truth -------------------------------------------------------------------------------
def test_rss_grows_by_the_memory_a_child_allocates(monitor: ResourceMonitor, child: Child) -> None:
    monitor.watch(child.pid, agent_id="mem-agent")
    before = by_pid(monitor.sample_once(), child.pid)
    assert child.do(f"alloc {200 * MiB}") == "ok"
    after = by_pid(monitor.sample_once(), child.pid)
    growth = after.rss - before.rss
    assert 190 * MiB <= growth <= 215 * MiB, growth / MiB
    assert after.vms - before.vms >= 190 * MiB
    assert after.agent_id == "mem-agent" and after.status == RUNNING


def test_fd_and_thread_counts_follow_the_child(monitor: ResourceMonitor, child: Child) -> None:
    monitor.watch(child.pid)
    before = by_pid(monitor.sample_once(), child.pid)
    assert child.do("open 17") == "ok"
    assert child.do("threads 5") == "ok"
    after = by_pid(monitor.sample_once(), child.pid)
    assert after.fds - before.fds == 17
    assert after.threads - before.threads == 5
    assert before.fds == len(os.listdir(f"/proc/{child.pid}/fd")) - 17


def test_cpu_time_counts_up_and_utilization_is_meaningful_at_first_sight(
    monitor: ResourceMonitor, child: Child
) -> None:
    assert child.do("burn 0.3") == "ok"
    monitor.watch(child.pid)
    first = by_pid(monitor.sample_once(), child.pid)
    # The first sample already shows the CPU the child burnt (psutil's first cpu_percent() is 0).
    tick = 2 / os.sysconf("SC_CLK_TCK")  # user and system are each rounded to a clock tick
    assert first.cpu_user + first.cpu_system >= 0.3 - tick
    assert 0 < first.cpu_utilization <= 1
    assert child.do("burn 0.2") == "ok"
    second = by_pid(monitor.sample_once(), child.pid)
    assert second.cpu_user + second.cpu_system >= first.cpu_user + first.cpu_system + 0.2 - tick
    assert 0 < second.cpu_utilization <= 1
    assert second.ctx_voluntary >= first.ctx_voluntary
    assert second.ctx_involuntary >= first.ctx_involuntary


def test_descendants_are_sampled_and_attributed_to_their_agent(
    monitor: ResourceMonitor, child: Child
) -> None:
    grandchild = int(child.do("spawn"))
    monitor.watch(child.pid, agent_id="parent-agent", agent_name="parent")
    samples = monitor.sample_once()
    g = by_pid(samples, grandchild)
    assert (g.agent_id, g.root_pid, g.ppid, g.status) == (
        "parent-agent",
        child.pid,
        child.pid,
        RUNNING,
    )
    assert monitor.watched()[child.pid].members == (child.pid, grandchild)


def test_nested_agents_keep_their_own_id(monitor: ResourceMonitor, child: Child) -> None:
    grandchild = int(child.do("spawn"))
    monitor.watch(child.pid, agent_id="outer")
    monitor.watch(grandchild, agent_id="inner")
    samples = monitor.sample_once()
    assert by_pid(samples, grandchild).agent_id == "inner"
    assert by_pid(samples, child.pid).agent_id == "outer"


def test_without_descendants_only_the_process(monitor: ResourceMonitor, child: Child) -> None:
    child.do("spawn")
    monitor.watch(child.pid, descendants=False)
    assert [s.pid for s in monitor.sample_once()] == [child.pid]


def test_orphaned_grandchild_stays_with_its_agent(monitor: ResourceMonitor, child: Child) -> None:
    grandchild = int(child.do("spawn"))
    monitor.watch(child.pid, agent_id="a")
    monitor.sample_once()
    child.popen.kill()
    child.popen.wait()  # the grandchild is reparented now
    samples = monitor.sample_once()
    g = by_pid(samples, grandchild)
    assert g.status == RUNNING and g.agent_id == "a" and g.ppid != child.pid
    assert by_pid(samples, child.pid).status == GONE
    psutil.Process(grandchild).kill()


def test_unwatch_stops_sampling(monitor: ResourceMonitor, child: Child) -> None:
    monitor.watch(child.pid)
    monitor.watch(child.pid)  # idempotent
    assert len(monitor.watched()) == 1
    assert monitor.sample_once()
    monitor.unwatch(child.pid)
    monitor.unwatch(child.pid)
    assert monitor.sample_once() == [] and monitor.watched() == {}


# --- processes that cannot be measured ----------------------------------------------------------
def debug_lines(caplog: pytest.LogCaptureFixture, pid: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "swarmscope.monitor" and f" {pid} " in r.getMessage()
    ]


def test_missing_pid_is_reported_once(
    monitor: ResourceMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="swarmscope.monitor")
    pid = 2**22 + 12345  # above pid_max's default ceiling: never a live process
    monitor.watch(pid, agent_id="ghost")
    first = monitor.sample_once()
    assert [(s.pid, s.status) for s in first] == [(pid, GONE)]
    for _ in range(3):
        assert monitor.sample_once() == []
    assert monitor.watched()[pid].status == GONE
    assert len(debug_lines(caplog, pid)) == 1


def test_zombie_is_noticed_then_gone_once_reaped(
    monitor: ResourceMonitor, child: Child, caplog: pytest.LogCaptureFixture, reader
) -> None:
    caplog.set_level(logging.DEBUG, logger="swarmscope.monitor")
    monitor.watch(child.pid, agent_id="z")
    assert by_pid(monitor.sample_once(), child.pid).status == RUNNING
    os.kill(child.pid, 9)  # not reaped: Popen.wait() is not called yet
    _wait_zombie(child.pid)
    for _ in range(3):
        assert by_pid(monitor.sample_once(), child.pid).status == ZOMBIE
    [zombie] = monitor.zombies()
    assert (zombie.pid, zombie.agent_id, zombie.ppid) == (child.pid, "z", os.getpid())
    assert monitor.watched()[child.pid].status == ZOMBIE
    # A zombie has no figures: no process point for it.
    assert child.pid not in _exported_pids(reader)

    child.popen.wait()  # reap it
    assert [(s.pid, s.status) for s in monitor.sample_once()] == [(child.pid, GONE)]
    assert monitor.sample_once() == [] and monitor.zombies() == []
    assert monitor.watched()[child.pid].status == GONE
    assert len(debug_lines(caplog, child.pid)) == 2  # once zombie, once gone


def _wait_zombie(pid: int) -> None:
    for _ in range(500):
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return
        time.sleep(0.01)
    raise AssertionError(f"{pid} never became a zombie")


def _exported_pids(reader: InMemoryMetricReader) -> set[int]:
    data = reader.get_metrics_data()
    pids = set()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name.startswith("process."):
                    pids |= {p.attributes.get("process.pid") for p in metric.data.data_points}
    return pids


def test_exited_child_is_dropped_from_metrics(
    monitor: ResourceMonitor, reader: InMemoryMetricReader, child: Child
) -> None:
    monitor.watch(child.pid)
    assert child.pid in _exported_pids(reader)
    child.popen.kill()
    child.popen.wait()
    assert child.pid not in _exported_pids(reader)
    assert child.pid not in _exported_pids(reader)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to sample as another user")
def test_access_denied_is_reported_once_without_raising() -> None:
    """A forked child drops to `nobody` and watches a root process whose fds it may not list."""
    target = subprocess.Popen(["sleep", "30"])
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest from here on, only os._exit
        code = 1
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            handler = _ListHandler()
            logging.getLogger("swarmscope.monitor").addHandler(handler)
            logging.getLogger("swarmscope.monitor").setLevel(logging.DEBUG)
            mon = ResourceMonitor(MeterProvider().get_meter("t"), python_runtime=False)
            mon.watch(target.pid)
            statuses = [s.status for _ in range(3) for s in mon.sample_once()]
            # Only this monitor's lines about the target: a forked child may also run a final
            # collection of metric readers inherited from earlier tests.
            mine = [line for line in handler.lines if f" {target.pid} " in line]
            report = [",".join(statuses), mon.watched()[target.pid].status, str(len(mine))]
            os.write(write_end, "\n".join(report).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            lines = pipe.read().split("\n")
        _, status = os.waitpid(pid, 0)
    finally:
        target.kill()
        target.wait()
    assert os.waitstatus_to_exitcode(status) == 0
    assert lines == [DENIED, DENIED, "1"]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


# --- the thread -----------------------------------------------------------------------------------
def test_background_thread_samples_until_stopped(
    monitor: ResourceMonitor, child: Child, reader: InMemoryMetricReader
) -> None:
    monitor.watch(child.pid)
    monitor.start()
    monitor.start()  # idempotent
    assert monitor.gc is not None and monitor.gc.installed
    deadline = time.monotonic() + 30
    while monitor.rounds < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.rounds >= 3 and monitor.running
    assert child.pid in _exported_pids(reader)
    monitor.stop()
    monitor.stop()
    assert not monitor.running and not monitor.gc.installed
    rounds = monitor.rounds
    time.sleep(0.3)
    assert monitor.rounds == rounds
    assert monitor.cpu_seconds > 0


@pytest.mark.parametrize("interval", [0, -1, "1", float("nan")])
def test_bad_interval_names_the_setting(interval) -> None:
    with pytest.raises(ValueError, match="interval"):
        ResourceMonitor(MeterProvider().get_meter("t"), interval=interval)


@pytest.mark.parametrize("pid", [0, -5, "123", True])
def test_bad_pid_names_the_argument(monitor: ResourceMonitor, pid) -> None:
    with pytest.raises(ValueError, match="pid"):
        monitor.watch(pid)


def test_descendants_born_later_are_found_without_full_rescans(child: Child) -> None:
    """With system metrics off the table only reads new pids; late descendants still appear."""
    mon = ResourceMonitor(MeterProvider().get_meter("t"), system=False, python_runtime=False)
    mon.watch(child.pid, agent_id="late")
    assert [s.pid for s in mon.sample_once()] == [child.pid]
    grandchild = int(child.do("spawn"))
    assert by_pid(mon.sample_once(), grandchild).agent_id == "late"
    psutil.Process(grandchild).kill()
    _wait_zombie(grandchild)  # the child never reaps it
    assert by_pid(mon.sample_once(), grandchild).status == ZOMBIE
    assert [z.pid for z in mon.zombies()] == [grandchild]
    assert by_pid(mon.sample_once(), child.pid).status == RUNNING


def test_forked_child_gets_a_working_monitor_of_its_own(reader: InMemoryMetricReader) -> None:
    """Forked while a round holds the lock: the child's monitor must not hang and must sample
    the child only, with the child's pid on its GC points."""
    provider = MeterProvider(metric_readers=[reader])
    mon = ResourceMonitor(provider.get_meter("t"), interval=0.05)
    mon.watch(os.getpid(), agent_id="parent-agent", descendants=False)
    mon.start()
    read_end, write_end = os.pipe()
    with mon._round_lock:  # as if the sampler thread were mid-round at fork time
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            mon.after_fork_in_child()
            samples = mon.sample_once()
            gc_pid = mon.gc._gen_attrs[0]["process.pid"] if mon.gc else None
            report = [
                str(sorted(mon.watched()) == [os.getpid()]),
                str([s.pid for s in samples] == [os.getpid()]),
                str(gc_pid == os.getpid()),
                str(mon.running),
            ]
            os.write(write_end, ",".join(report).encode())
            mon.stop()
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung")
        time.sleep(0.02)
    with os.fdopen(read_end) as pipe:
        assert pipe.read() == "True,True,True,True"
    assert sorted(mon.watched()) == [os.getpid()]  # the parent is untouched
    mon.stop()
    provider.shutdown()


def test_a_later_agent_id_reaches_the_points(monitor: ResourceMonitor, child: Child) -> None:
    grandchild = int(child.do("spawn"))
    monitor.watch(child.pid)
    assert {s.agent_id for s in monitor.sample_once()} == {None}
    monitor.watch(child.pid, agent_id="named-later")
    samples = monitor.sample_once()
    assert {s.pid: s.agent_id for s in samples} == {
        child.pid: "named-later",
        grandchild: "named-later",
    }
