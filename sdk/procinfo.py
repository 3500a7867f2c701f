"""Cheap reads of the process table: every process's parent, state and start time in one pass.

The resource monitor needs, each round, the descendants of every watched agent and the number
of processes per state on the system. ``psutil.Process.children(recursive=True)`` scans the
whole process table on every call, so calling it once per watched agent costs one full scan per
agent; one shared scan per round serves all agents, ``system.process.count`` and zombie
detection at once. On Linux the scan reads ``/proc/<pid>/stat`` with raw ``os`` calls (about
half the cost of ``open()``); elsewhere it falls back to ``psutil.process_iter``.
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


def scan() -> dict[int, ProcEntry]:
    """Every process on the system right now: pid -> (ppid, state, start)."""
    if sys.platform.startswith("linux") and os.path.isdir("/proc/self"):
        return _scan_proc()
    return _scan_psutil()


def _scan_proc() -> dict[int, ProcEntry]:
    table: dict[int, ProcEntry] = {}
    oopen, oread, oclose, rdonly = os.open, os.read, os.close, os.O_RDONLY
    states = _LINUX_STATES
    for name in os.listdir(b"/proc"):
        if not name.isdigit():
            continue
        try:
            fd = oopen(b"/proc/" + name + b"/stat", rdonly)
        except OSError:  # exited between listdir and open
            continue
        try:
            data = oread(fd, 2048)
        except OSError:
            continue
        finally:
            oclose(fd)
        # The command name (field 2) may contain spaces and parentheses: split after the last ")".
        fields = data[data.rfind(b")") + 2 :].split(b" ", 20)
        if len(fields) < 20:
            continue
        table[int(name)] = ProcEntry(
            int(fields[1]), states.get(fields[0], ProcessState.SLEEPING), float(fields[19])
        )
    return table


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
