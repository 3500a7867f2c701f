"""The one reader of process facts, checked against the kernel through psutil."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest
from swarmscope import procfs


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "30"], env={**os.environ, "PROCFS_MARK": "here"})
    # vfork lets Popen return while exec is still setting up the new program's arguments
    deadline = time.monotonic() + 10
    while not procfs.read_cmdline(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.005)
    yield proc
    proc.kill()
    proc.wait()


def test_identity_is_pid_and_start_ticks(sleeper) -> None:
    stat = procfs.read_stat(sleeper.pid)
    assert stat is not None and stat.key == (sleeper.pid, stat.start_ticks)
    assert stat.ppid == os.getpid() and stat.comm == "sleep" and not stat.is_zombie
    assert stat.create_time == pytest.approx(psutil.Process(sleeper.pid).create_time(), abs=0.02)
    assert procfs.scan()[sleeper.pid].key == stat.key  # the table agrees


def test_command_line_environment_and_descendants(sleeper) -> None:
    assert procfs.read_cmdline(sleeper.pid) == ["sleep", "30"]
    assert procfs.read_exe(sleeper.pid).endswith("sleep")
    assert procfs.read_environ(sleeper.pid)["PROCFS_MARK"] == "here"
    assert procfs.environ_has(sleeper.pid, "PROCFS_MARK", "here")
    assert not procfs.environ_has(sleeper.pid, "PROCFS_MARK", "there")
    assert sleeper.pid in {s.pid for s in procfs.descendants(os.getpid())}


def test_a_zombie_carries_its_wait_status() -> None:
    child = subprocess.Popen(["sh", "-c", "kill -TERM $$"])
    deadline = time.monotonic() + 10
    while (stat := procfs.read_stat(child.pid)) is not None and not stat.is_zombie:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert stat is not None and stat.process_state == "defunct"
        assert procfs.decode_wait_status(stat.exit_status) == (-signal.SIGTERM, signal.SIGTERM)
        assert procfs.signal_name(signal.SIGTERM) == "SIGTERM"
        assert procfs.state_counts({child.pid: stat})["defunct"] == 1
    finally:
        child.wait()
    assert procfs.read_stat(child.pid) is None


# --- what a sleeping process waits on -----------------------------------------------------------


def test_epoll_interest_lists_fds_and_events() -> None:
    import select

    reader, writer = os.pipe()
    poller = select.epoll()
    try:
        poller.register(reader, select.EPOLLIN)
        poller.register(writer, select.EPOLLOUT)
        entries = procfs.epoll_interest(os.getpid(), poller.fileno())
        # the kernel adds EPOLLERR and EPOLLHUP to every entry
        masks = {fd: events & (select.EPOLLIN | select.EPOLLOUT) for fd, events in entries}
        assert masks == {reader: select.EPOLLIN, writer: select.EPOLLOUT}
        assert procfs.fd_target(os.getpid(), poller.fileno()) == "anon_inode:[eventpoll]"
        assert procfs.epoll_interest(os.getpid(), reader) == []  # not an epoll fd: no entries
    finally:
        poller.close()
        os.close(reader)
        os.close(writer)


def test_pipe_holders_by_access_mode() -> None:
    reader, writer = os.pipe()
    child = subprocess.Popen(["sleep", "30"], pass_fds=(writer,))
    try:
        target = procfs.fd_target(os.getpid(), reader)
        assert target and target.startswith("pipe:[")
        assert procfs.fd_access(os.getpid(), reader) == procfs.ACCESS_READ
        assert procfs.fd_access(os.getpid(), writer) == procfs.ACCESS_WRITE
        writers = procfs.holders_of(target, skip=os.getpid(), write=True)
        assert writers == [(child.pid, writer)]
    finally:
        child.kill()
        child.wait()
        os.close(reader)
        os.close(writer)


def test_syscall_of_a_sleeping_process() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while procfs.read_wchan(proc.pid) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        call = procfs.read_syscall(proc.pid)
        assert call is not None and call.number >= 0 and len(call.args) == 6  # clock_nanosleep
        assert procfs.read_syscall(proc.pid, 999_999_999) is None  # no such thread
    finally:
        proc.kill()
        proc.wait()


def test_cpu_counts_every_thread() -> None:
    import threading

    burned, release = threading.Event(), threading.Event()

    def burn() -> None:  # 0.2 s of its own CPU, however long that takes, then stays alive
        while time.thread_time() < 0.2:
            pass
        burned.set()
        release.wait()

    before = procfs.read_cpu_ns(os.getpid())
    worker = threading.Thread(target=burn)
    worker.start()
    try:
        assert burned.wait(60)
        during = procfs.read_cpu_ns(os.getpid())
    finally:
        release.set()
        worker.join()
    assert before is not None and during is not None and during - before >= 200_000_000
    assert procfs.read_bytes_read(os.getpid()) is not None
    assert os.getpid() in procfs.thread_ids(os.getpid())
