"""What one round of the resource monitor measured, per process and for the system."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil
from swarmscope.conventions import (
    AGENT_INSTANCE_ID,
    CONTEXT_SWITCH_TYPE,
    CPU_MODE,
    PROCESS_PID,
    ContextSwitchType,
    CpuMode,
)

# ProcessSample.status / WatchedProcess.status values.
RUNNING = "running"  # alive and measured
ZOMBIE = "zombie"  # exited, not yet reaped by its parent
GONE = "gone"  # exited (or never existed)
DENIED = "denied"  # alive, but the OS refuses to let us read it


@dataclass(slots=True)
class WatchedProcess:
    """A process registered with ``watch()``; ``members`` are the pids sampled for it last round."""

    pid: int
    agent_id: str | None = None
    agent_name: str | None = None
    descendants: bool = True
    status: str = RUNNING
    members: tuple[int, ...] = ()


@dataclass(slots=True)
class ProcessSample:
    """One process measured in one round. Only ``status == "running"`` samples carry figures."""

    pid: int
    root_pid: int
    agent_id: str | None
    status: str = RUNNING
    ppid: int | None = None
    time: float = field(default_factory=time.time)
    rss: int = 0
    vms: int = 0
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    cpu_utilization: float = 0.0  # both modes
    cpu_utilization_user: float = 0.0
    cpu_utilization_system: float = 0.0
    threads: int = 0
    fds: int = 0
    ctx_voluntary: int = 0
    ctx_involuntary: int = 0


@dataclass(slots=True)
class SystemSample:
    memory: dict[str, int]
    memory_total: int
    load: tuple[float, float, float]
    process_counts: dict[str, int]


class SampledProcess:
    """A process sampled on behalf of a watched root; keeps what the next round needs."""

    __slots__ = ("pid", "start", "root", "proc", "attrs", "user", "system", "voluntary",
                 "involuntary", "prev_cpu", "prev_wall", "prev_user", "prev_system")  # fmt: skip

    def __init__(self, pid: int, start: int, root: WatchedProcess) -> None:
        self.pid, self.start, self.root = pid, start, root
        self.proc = psutil.Process(pid)
        base: dict[str, str | int] = {PROCESS_PID: pid}
        if root.agent_id:
            base[AGENT_INSTANCE_ID] = root.agent_id
        # Attribute sets are built once per process, not once per point.
        self.attrs = base
        self.user = {**base, CPU_MODE: str(CpuMode.USER)}
        self.system = {**base, CPU_MODE: str(CpuMode.SYSTEM)}
        self.voluntary = {**base, CONTEXT_SWITCH_TYPE: str(ContextSwitchType.VOLUNTARY)}
        self.involuntary = {**base, CONTEXT_SWITCH_TYPE: str(ContextSwitchType.INVOLUNTARY)}
        self.prev_cpu: float | None = None
        self.prev_wall = 0.0
        self.prev_user = self.prev_system = 0.0


