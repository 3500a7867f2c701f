"""One agent of the mesh swarm (see mesh_swarm.py): a process that talks to every peer over UDP.

Handshake on stdin/stdout: the worker binds a UDP port on localhost and prints it; the
orchestrator answers with every agent's port on one line. Then the worker runs its tasks —
each one messages all peers and waits for their acknowledgements while doing a little work —
and stays available for its peers until it is asked to stop with SIGTERM.

Because it was started through ``swarmscope.spawn_agent``, ``swarmscope.init()`` here joins
the orchestrator's session and trace, and its task spans carry this agent's id.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time

import swarmscope


class Mesh:
    """A UDP endpoint that answers every message with an ack and counts acks it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.peers: list[int] = []
        self.received = 0
        self._acks: dict[str, int] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mesh", daemon=True)

    def start(self, peers: list[int]) -> None:
        self.peers = [p for p in peers if p != self.port]
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, address = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            kind, _, message_id = data.decode().partition(" ")
            if kind == "msg":
                self.received += 1
                self.sock.sendto(f"ack {message_id}".encode(), address)
            elif kind == "ack":
                with self._cond:
                    self._acks[message_id] = self._acks.get(message_id, 0) + 1
                    self._cond.notify_all()

    def broadcast(self, message_id: str, timeout: float = 2.0) -> int:
        """Send to every peer; return how many acknowledged within ``timeout`` s."""
        for port in self.peers:
            self.sock.sendto(f"msg {message_id}".encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._acks.get(message_id, 0) < len(self.peers):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._acks.pop(message_id, 0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.sock.close()


def work(task_number: int, payload_mb: int) -> str:
    """Some honest work: hold a buffer, hash it, spill it to a temp file, release everything."""
    buffer = bytearray(os.urandom(1024)) * (payload_mb * 1024)
    digest = hashlib.sha256(buffer).hexdigest()
    with tempfile.TemporaryFile() as spill:
        spill.write(buffer[: 256 * 1024])
    del buffer
    return f"{task_number}:{digest[:12]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--task-interval", type=float, default=2.0)
    parser.add_argument("--payload-mb", type=int, default=8)
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    swarmscope.init()
    agent = swarmscope.current_agent()
    name = agent.name if agent else f"worker-{os.getpid()}"

    mesh = Mesh()
    print(mesh.port, flush=True)
    peers = [int(p) for p in sys.stdin.readline().split()]
    mesh.start(peers)

    for number in range(args.tasks):
        if stop.is_set():
            break
        with swarmscope.task(f"exchange-{number}"):
            mesh.broadcast(f"{name}/{number}")
            work(number, args.payload_mb)
        stop.wait(args.task_interval)
    print("done", flush=True)  # the orchestrator may wait for this before terminating us

    stop.wait()  # stay reachable for peers until the orchestrator stops us
    mesh.close()
    swarmscope.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
