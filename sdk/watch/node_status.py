"""The live status a Node.js process running swarmscope's preload publishes, read for the
hung-worker rule (:mod:`.hung`).

The preload's own timers (its event-loop-delay monitor, its export interval) are unref'd, yet
they put a timeout on every ``epoll_wait`` of the process and wake it about a hundred times a
second: from outside, a stuck Node.js worker with the preload never looks idle. The preload is
the authority on its own timers, so it says what *else* keeps the loop alive
(``sdk/watch/node_status.cjs``): at every export it rewrites
``<data dir>/watch/node/<pid>.status`` (JSON; the ``.status`` suffix keeps the analyzer's
ingest, which reads ``*.jsonl``/``*.json``, away from it) with

* ``resources``: ``process.getActiveResourcesInfo()``, the *ref'd* resources only (the
  preload's are not among them; a program's timer is ``Timeout``, an HTTP request
  ``TCPSocketWrap``, its stdin ``PipeWrap`` whether a pipe or a socketpair);
* ``elu``: the event-loop utilization since the previous status;
* ``bytes_read``: bytes read so far per fd of each active stream handle (stdin as ``"0"``),
  since ``rchar`` of ``/proc/PID/io`` also counts libuv's 8-byte eventfd reads, which the
  preload's work causes now and then;
* ``time``, ``interval_s``, ``pid``, ``start_ns`` (when the preload loaded).

A process runs the preload when its initial ``NODE_OPTIONS`` names ``node_preload.cjs``; its
status lives under its own ``SWARMSCOPE_DATA_DIR`` (absolute under ``swarmscope run``; a
relative one is not followed). A status is *fresh* when it belongs to this process (its pid,
written after the process started) and is at most :data:`STALE_INTERVALS` intervals old (and
never less than :data:`MIN_STALE_S`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import NamedTuple

from swarmscope import conventions as c
from swarmscope import procfs

SUBDIR = ("watch", "node")
SUFFIX = ".status"
STALE_INTERVALS = 3  # a busy machine may delay an export; three missed ones is not a delay
MIN_STALE_S = 3.0
# Ref'd resources that cannot wake a loop by themselves: stream handles (stdin, stdout and
# stderr as pipes, socketpairs or terminals). What they wait on is in the epoll interest set,
# which the rule reads from /proc: a stream other than the feeds there means "not judged".
STREAM_RESOURCES = frozenset({"PipeWrap", "TTYWrap"})
IDLE_ELU = 0.05  # the preload's own exports cost ~0.003 of an idle loop; 0.05 leaves room for load


class NodeStatus(NamedTuple):
    """One status as the preload wrote it."""

    time: float  # epoch seconds
    interval_s: float
    resources: tuple[str, ...]
    elu: float | None  # None in the first status
    bytes_read: tuple[tuple[int, int], ...] | None  # (fd, bytes), sorted; None: unknown

    def only_streams(self) -> bool:
        """Nothing but stream handles keeps the loop alive, and the loop is idle: no timer,
        no request, no server, no child process, no pending file operation of the program."""
        idle = self.elu is None or self.elu <= IDLE_ELU
        return idle and all(kind in STREAM_RESOURCES for kind in self.resources)

    def read_on(self, fds: tuple[int, ...]) -> tuple[int, ...] | None:
        """Bytes read so far on each of ``fds``; None when one of them is not known."""
        known = dict(self.bytes_read or ())
        if any(fd not in known for fd in fds):
            return None
        return tuple(known[fd] for fd in fds)


def status_path(pid: int) -> Path | None:
    """Where the preload of ``pid`` writes its status; None when ``pid`` does not run the
    preload (or its environment is unreadable, or its data directory relative)."""
    environ = procfs.read_environ(pid)
    if not environ or c.NODE_PRELOAD_FILE not in environ.get(c.ENV_NODE_OPTIONS, ""):
        return None
    data_dir = environ.get(c.ENV_DATA_DIR) or ""
    if not os.path.isabs(data_dir):
        return None
    return Path(data_dir, *SUBDIR, f"{pid}{SUFFIX}")


def read_status(path: Path, stat: procfs.ProcStat, now: float | None = None) -> NodeStatus | None:
    """The fresh status of the process ``stat`` describes, or None (missing, unreadable,
    another process's, stale)."""
    try:
        record = json.loads(path.read_bytes())
        status = _parse(record)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if record.get("pid") != stat.pid or int(record["start_ns"]) / 1e9 < stat.create_time - 1:
        return None  # a recycled pid's leftover
    age = (time.time() if now is None else now) - status.time
    return status if age <= max(MIN_STALE_S, STALE_INTERVALS * status.interval_s) else None


def _parse(record: dict) -> NodeStatus:
    reads = record.get("bytes_read")
    bytes_read = None
    if isinstance(reads, dict):
        bytes_read = tuple(sorted((int(fd), int(n)) for fd, n in reads.items()))
    elu = record.get("elu")
    return NodeStatus(
        float(record["time"]), float(record["interval_s"]),
        tuple(str(kind) for kind in record["resources"]),
        None if elu is None else float(elu), bytes_read,
    )  # fmt: skip
