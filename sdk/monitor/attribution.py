"""Per-agent CPU and memory of in-process agents: the ledger their runs are charged to.

Each thread's time is cut into *segments* at checkpoints - the start and end of spans (the
span processor, :mod:`swarmscope.record.inproc`) and the start and end of every asyncio task
step (the stepping wrapper, :mod:`swarmscope.record.steps`). A segment belongs to at most one
agent run: the run whose span is current in the code that ran. Its CPU is the thread's own
CPU (``time.thread_time``) over the segment, so every CPU second of a thread is charged once
at most and the agents' CPU can never add up to more than the process's.

Memory is the net allocation over *measurement intervals* (one or more segments of a
thread), read from a process-wide counter: ``sys.getallocatedblocks()`` (blocks, not bytes;
cheap mode, the default) or ``tracemalloc``'s traced bytes (exact mode). A process-wide
counter also sees what other threads allocated meanwhile, so an interval is charged only when

* the other threads used (next to) no CPU during it (``process_time`` minus this thread's
  ``thread_time``): nothing else can have allocated much, and
* one agent run holds most of the interval's CPU (``DOMINANT_SHARE``): intervals end where
  another run's segment begins, except after steps too small to matter.

Other intervals stay unattributed (counted per agent as unattributed steps): memory that
cannot be told apart is left out rather than blamed on the wrong agent. In cheap mode the
counter is not read after steps below ``SMALL_STEP_CPU_S``, because one read walks every
pymalloc pool (tens of microseconds in a process with a large heap).
"""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
import weakref
from dataclasses import dataclass, field

# Cheap mode: read the heap counter when another run's segment begins - unless this thread
# used less than SMALL_STEP_CPU_S since the last read: such a step can allocate or free only
# little, and one read costs ~30-50 us with pydantic-ai's heap - and at the latest after
# READ_EVERY_CPU_S, so that intervals stay short enough to find other threads idle.
SMALL_STEP_CPU_S = 0.00002
READ_EVERY_CPU_S = 0.002
# An interval is charged to the run that used at least this share of its CPU ...
DOMINANT_SHARE = 0.7
# ... and only when other threads used at most this much CPU meanwhile (absolute, relative).
OTHER_THREADS_TOLERANCE_S = 0.0002
OTHER_THREADS_TOLERANCE_SHARE = 0.05


@dataclass(eq=False)
class AgentTotals:
    """One in-process agent (name + process): what its runs used and retained so far."""

    agent_id: str
    name: str
    pid: int
    confirmed: bool = False  # known to be an agent (a workflow span is not)
    cpu_done: float = 0.0  # s, of finished runs
    memory: int = 0  # net retained: blocks (cheap mode) or bytes (tracemalloc mode)
    runs: int = 0  # finished runs
    unattributed: int = 0  # its measurement intervals whose memory could not be told apart
    open: set[Run] = field(default_factory=set)
    # the non-main threads it ran in (the objects: a finished thread's ident is reused)
    threads: weakref.WeakSet[threading.Thread] = field(default_factory=weakref.WeakSet)


@dataclass(eq=False)
class Run:
    """One agent run (an invoke_agent span): the CPU its segments used."""

    agent: AgentTotals
    cpu: float = 0.0
    finished: bool = False
    provisional: bool = False  # its span named no agent yet: it may be a workflow span


class _ThreadState:
    __slots__ = ("last_cpu", "owner", "last_proc", "last_memory", "interval_cpu", "interval")

    def __init__(self) -> None:
        self.last_cpu = time.thread_time()
        self.owner: Run | None = None
        self.last_proc = time.process_time()
        self.last_memory: int | None = None  # None: not read yet in this thread
        self.interval_cpu = 0.0
        self.interval: dict[AgentTotals, float] = {}  # CPU per agent since the last read


class Ledger:
    """Charges each thread's segments to agent runs; totals per agent for the instruments."""

    def __init__(self, exact: bool = False, pid: int | None = None) -> None:
        import os

        self.exact = exact  # tracemalloc mode: bytes, read at every checkpoint
        self.pid = pid if pid is not None else os.getpid()
        self.active = True
        self._lock = threading.Lock()
        self._agents: dict[str, AgentTotals] = {}
        self._local = threading.local()
        if exact and not tracemalloc.is_tracing():
            tracemalloc.start(1)

    # -- agents and runs --
    def agent(self, name: str, agent_id: str, confirmed: bool) -> AgentTotals:
        with self._lock:
            totals = self._agents.get(agent_id)
            if totals is None:
                totals = self._agents[agent_id] = AgentTotals(agent_id, name, self.pid)
            totals.confirmed = totals.confirmed or confirmed
            return totals

    def start_run(self, agent: AgentTotals) -> Run:
        run = Run(agent)
        thread = threading.current_thread()
        with self._lock:
            agent.open.add(run)
            if thread is not threading.main_thread():
                agent.threads.add(thread)
        return run

    def move_run(self, run: Run, agent: AgentTotals) -> None:
        """A run whose agent name became known only at its end joins that agent."""
        with self._lock:
            run.agent.open.discard(run)
            agent.open.add(run)
            run.agent = agent

    def end_run(self, run: Run) -> None:
        with self._lock:
            if run.finished:
                return
            run.finished = True
            run.agent.open.discard(run)
            run.agent.cpu_done += run.cpu
            run.agent.runs += 1

    def agents(self) -> list[AgentTotals]:
        """Confirmed agents, for the instruments (a consistent copy of the list)."""
        with self._lock:
            return [a for a in self._agents.values() if a.confirmed]

    def cpu_of(self, agent: AgentTotals) -> float:
        with self._lock:
            return agent.cpu_done + sum(r.cpu for r in agent.open)

    def open_runs(self, agent: AgentTotals) -> int:
        with self._lock:
            return len(agent.open)

    # -- segments --
    def _state(self) -> _ThreadState:
        try:
            return self._local.state
        except AttributeError:
            state = self._local.state = _ThreadState()
            return state

    def checkpoint(self, owner: Run | None, close: bool = False) -> None:
        """Close this thread's current segment (charged to its owner) and open one for
        ``owner``; with the same owner, only when ``close`` (a run about to report its CPU)."""
        if self.active:
            self._switch(self._state(), owner, close)

    def begin_step(self, owner: Run | None) -> Run | None:
        """An asyncio step of ``owner``'s code begins; returns the owner to restore after it."""
        if not self.active:
            return None
        st = self._state()
        outside = st.owner
        self._switch(st, owner)
        return outside

    def end_step(self, outside: Run | None) -> None:
        if self.active:
            self._switch(self._state(), outside)

    def _switch(self, st: _ThreadState, owner: Run | None, close: bool = False) -> None:
        current = st.owner
        if owner is current and not (close or self.exact):
            return  # the same owner goes on: nothing to close yet
        now = time.thread_time()
        used = now - st.last_cpu
        st.last_cpu = now
        if current is not None:
            current.cpu += used
            agent = current.agent
            st.interval[agent] = st.interval.get(agent, 0.0) + used
        cpu = st.interval_cpu = st.interval_cpu + used
        st.owner = owner
        proc = time.process_time()
        others = (proc - st.last_proc) - cpu
        if (self.exact or st.last_memory is None or cpu >= READ_EVERY_CPU_S
                or (owner is not None and cpu >= SMALL_STEP_CPU_S
                    and owner.agent not in st.interval)
                or others > max(OTHER_THREADS_TOLERANCE_S,
                                OTHER_THREADS_TOLERANCE_SHARE * cpu)):  # lost: start afresh
            self._read(st, proc)

    def owner(self) -> Run | None:
        """The run this thread's current segment is charged to."""
        return self._state().owner

    def _memory(self) -> int:
        return tracemalloc.get_traced_memory()[0] if self.exact else sys.getallocatedblocks()

    def process_memory(self) -> int:
        """The whole process's heap, in the ledger's unit (blocks or traced bytes): this
        thread's latest reading (at most ``READ_EVERY_CPU_S`` of its CPU old), which saves a
        read per run in cheap mode."""
        last = self._state().last_memory
        return last if last is not None and not self.exact else self._memory()

    def _read(self, st: _ThreadState, proc: float) -> None:
        memory = self._memory()
        if st.last_memory is not None and st.interval:
            agent, cpu = max(st.interval.items(), key=lambda item: item[1])
            if (_others(st, proc) <= _tolerance(st)
                    and cpu >= DOMINANT_SHARE * st.interval_cpu):
                with self._lock:
                    agent.memory += memory - st.last_memory
            else:
                with self._lock:
                    for other in st.interval:
                        other.unattributed += 1
        st.last_proc = proc
        st.last_memory = memory
        st.interval_cpu = 0.0
        st.interval = {}


def _others(st: _ThreadState, proc: float) -> float:
    """CPU other threads used since this thread's last read."""
    return (proc - st.last_proc) - st.interval_cpu


def _tolerance(st: _ThreadState) -> float:
    return max(OTHER_THREADS_TOLERANCE_S, OTHER_THREADS_TOLERANCE_SHARE * st.interval_cpu)
