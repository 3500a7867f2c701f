"""Cheap reads of the process table: every process's parent, state and start time in one pass.

The resource monitor needs, each round, the descendants of every watched agent and the number
of processes per state on the system. ``psutil.Process.children(recursive=True)`` scans the
whole process table on every call, so calling it once per watched agent costs one full scan per
agent; one shared ``ProcessTable`` per monitor serves all agents and ``system.process.count``.

A process's parent only changes when it is reparented, and a new descendant is always a new
pid, so between rounds only the stat of *new* pids must be read to find descendants; a full
re-read is needed only for the per-state counts. On Linux the table reads ``/proc/<pid>/stat``
with raw ``os`` calls (about half the cost of ``open()``); elsewhere it asks
``psutil.process_iter``.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

import psutil
from swarmscope.conventions import ProcessState

# Kernel state letters (proc(5)) folded into the semantic-convention `process.state` values.
_LINUX_STATES: dict[bytes, str] = {
    b"R": ProcessState.RUNNING,
    b"S": ProcessState.SLEEPING,
    b"D": ProcessState.SLEEPING,  # uninterruptible (disk) sleep
    b"I": ProcessState.SLEEPING,  # idle kernel thread
    b"T": ProcessState.STOPPED,
    b"t": ProcessState.STOPPED,  # tracing stop
    b"Z": ProcessState.DEFUNCT,
    b"X": ProcessState.DEFUNCT,
}

_PSUTIL_STATES: dict[str, str] = {
    psutil.STATUS_RUNNING: ProcessState.RUNNING,
    psutil.STATUS_STOPPED: ProcessState.STOPPED,
    psutil.STATUS_TRACING_STOP: ProcessState.STOPPED,
    psutil.STATUS_ZOMBIE: ProcessState.DEFUNCT,
    psutil.STATUS_DEAD: ProcessState.DEFUNCT,
}


class ProcEntry(NamedTuple):
    """One row of the process table.

    ``start`` identifies the process together with its pid, so a recycled pid is never taken
    for the process that used to own it (kernel clock ticks on Linux, create time elsewhere).
    """

    ppid: int
    state: str
    start: float


_LINUX = sys.platform.startswith("linux") and os.path.isdir("/proc/self")


class ProcessTable:
    """The process table, refreshed in place; entries of known pids are reused unless ``full``."""

    def __init__(self) -> None:
        self.entries: dict[int, ProcEntry] = {}

    def refresh(self, full: bool = True) -> dict[int, ProcEntry]:
        """Every process on the system now. Without ``full``, states and parents of pids seen
        before are those of their first sight (enough for descendant discovery)."""
        if not _LINUX:
            self.entries = _scan_psutil()
            return self.entries
        old, new = self.entries, {}
        for name in os.listdir(b"/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            entry = None if full else old.get(pid)
            if entry is None:
                entry = _read_stat(name)
                if entry is None:  # exited since listdir
                    continue
            new[pid] = entry
        self.entries = new
        return new


def scan() -> dict[int, ProcEntry]:
    """Every process on the system right now: pid -> (ppid, state, start)."""
    return ProcessTable().refresh(full=True)


def _read_stat(name: bytes) -> ProcEntry | None:
    try:
        fd = os.open(b"/proc/" + name + b"/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 2048)
    except OSError:
        return None
    finally:
        os.close(fd)
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    fields = data[data.rfind(b")") + 2 :].split(b" ", 20)
    if len(fields) < 20:
        return None
    return ProcEntry(
        int(fields[1]), _LINUX_STATES.get(fields[0], ProcessState.SLEEPING), float(fields[19])
    )


def _scan_psutil() -> dict[int, ProcEntry]:
    table: dict[int, ProcEntry] = {}
    for proc in psutil.process_iter(["ppid", "status", "create_time"]):
        info = proc.info
        if info["ppid"] is None or info["create_time"] is None:
            continue
        state = _PSUTIL_STATES.get(info["status"], ProcessState.SLEEPING)
        table[proc.pid] = ProcEntry(info["ppid"], state, float(info["create_time"]))
    return table


def children_map(table: dict[int, ProcEntry]) -> dict[int, list[int]]:
    """ppid -> direct children, built from one scan."""
    children: dict[int, list[int]] = {}
    for pid, entry in table.items():
        children.setdefault(entry.ppid, []).append(pid)
    return children


def state_counts(table: dict[int, ProcEntry]) -> dict[str, int]:
    """Number of processes per `process.state` value (every state present, zeros included)."""
    counts = dict.fromkeys(ProcessState, 0)
    for entry in table.values():
        counts[entry.state] += 1
    return {str(k): v for k, v in counts.items()}
