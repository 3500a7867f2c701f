"""What a sleeping process waits on, interpreted: Unix socket peers, timers, self-pipes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from swarmscope import procfs
from swarmscope.watch import sockets, waits


def test_unix_socket_peer_and_state() -> None:
    left, right = socket.socketpair()
    listener = socket.socket(socket.AF_UNIX)
    tcp = socket.socket()
    try:
        listener.bind("\0swarmscope-test-" + str(os.getpid()))
        listener.listen()
        tcp.bind(("127.0.0.1", 0))
        found = sockets.unix_socket(os.fstat(left.fileno()).st_ino)
        assert found == (socket.SOCK_STREAM, sockets.CONNECTED, os.fstat(right.fileno()).st_ino)
        listening = sockets.unix_socket(os.fstat(listener.fileno()).st_ino)
        assert listening is not None and listening.peer is None
        assert listening.state != sockets.CONNECTED
        assert sockets.unix_socket(os.fstat(tcp.fileno()).st_ino) is None  # not a Unix socket
    finally:
        for s in (left, right, listener, tcp):
            s.close()


# An asyncio loop waiting on stdin: its self-pipe (a socketpair with itself) is internal, stdin
# is its one feed; with a timer pending ("timer") it does not wait forever.
LOOP = """
import asyncio, sys
async def main():
    loop = asyncio.get_running_loop()
    loop.add_reader(0, lambda: sys.stdin.buffer.raw.read(100))
    if sys.argv[1:] == ["timer"]:
        loop.call_later(60, lambda: None)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def _loop(*args: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", LOOP, *args], stdin=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while procfs.read_wchan(proc.pid) != "do_epoll_wait" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    return proc


def test_event_loop_on_stdin_only_has_one_feed() -> None:
    proc = _loop()
    try:
        assert waits.epoll_wait(proc.pid) is not None  # no timeout
        assert waits.threads_quiet(proc.pid)
        (feed,) = waits.epoll_feeds(proc.pid)
        assert feed.fd == 0 and feed.target.startswith("pipe:[")
    finally:
        proc.kill()
        proc.wait()


def test_event_loop_with_a_timer_pending_does_not_wait_forever() -> None:
    proc = _loop("timer")
    try:
        assert waits.epoll_wait(proc.pid) is None
    finally:
        proc.kill()
        proc.wait()
