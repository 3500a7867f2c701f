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
  ``thread_time``, the process clock read on both sides of the counter, so a thread that
  runs during a read counts in both intervals): nothing else can have allocated much, and
* one agent holds most of the interval's CPU (``DOMINANT_SHARE``): the CPU of its runs and
  of its *glue* - the steps, outside any run, of an asyncio task that ran one of its runs
  (a framework's code before and after its span) - against all CPU but a small allowance
  for the event loop between steps. A background task that never ran an agent is no glue.

A run's memory counts towards its agent only when the whole run could be told apart: it is
committed as the run ends, unless one of its intervals was not charged to it (another run's
or thread's, or unattributed; counted per agent as unattributed steps). A run is all or
nothing because its allocations and its frees fall in different steps - a big step that
allocates and a small one that frees - and an all-or-nothing rule cannot lose one without the
other, so a well-behaved agent never appears to keep what it gave back. In cheap mode the
counter is not read after steps below ``SMALL_STEP_CPU_S``, because one read walks every
pymalloc pool (tens of microseconds in a process with a large heap); it is always read as a
run ends, so that the run is settled when its figures are written. An interval of glue alone
is counted nowhere (no run of the agent was in it), and taints nothing.
"""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
import weakref
from dataclasses import dataclass, field

_thread_time = time.thread_time
_process_time = time.process_time

# Cheap mode: read the heap counter when another agent's segment begins - unless this thread
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
# CPU of unowned code (the event loop between steps, swarmscope's own checkpoints) in an
# interval that does not count against the dominant run: the loop's overhead between two
# steps measured 50-100 us; code that allocates a material amount uses more.
UNOWNED_ALLOWANCE_S = 0.0002


@dataclass(eq=False)
class AgentTotals:
    """One in-process agent (name + process): what its runs used and retained so far."""

    agent_id: str
    name: str
    pid: int
    confirmed: bool = False  # known to be an agent (a workflow span is not)
    cpu_done: float = 0.0  # s, of finished runs
    memory: int = 0  # net retained by its committed runs: blocks (cheap) or bytes (tracemalloc)
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
    memory: int = 0  # net allocation of its intervals so far
    tainted: bool = False  # an interval of it was charged elsewhere: its memory is unknown
    finished: bool = False
    provisional: bool = False  # its span named no agent yet: it may be a workflow span


class _ThreadState:
    __slots__ = ("last_cpu", "owner", "glue", "last_proc", "last_memory", "interval_cpu",
                 "interval", "interval_glue", "parties")

    def __init__(self) -> None:
        self.last_cpu = _thread_time()
        self.owner: Run | None = None
        self.glue: AgentTotals | None = None  # whose glue an unowned segment is
        self.last_proc = _process_time()
        self.last_memory: int | None = None  # None: not read yet in this thread
        self.interval_cpu = 0.0
        self.interval: dict[Run, float] = {}  # CPU per run since the last read
        self.interval_glue: dict[AgentTotals, float] = {}  # glue CPU per agent, likewise
        self.parties: set[AgentTotals] = set()  # the agents of both


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
        # agents run in more than one thread: intervals end with each step, before the
        # thread waits and other threads allocate meanwhile
        self._run_threads: set[int] = set()
        self.threaded = False
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
            if not self.threaded:
                self._run_threads.add(thread.ident or 0)
                self.threaded = len(self._run_threads) > 1
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
            if not run.tainted:
                run.agent.memory += run.memory

    def agents(self) -> list[AgentTotals]:
        """Confirmed agents, for the instruments (a consistent copy of the list)."""
        with self._lock:
            return [a for a in self._agents.values() if a.confirmed]

    def cpu_of(self, agent: AgentTotals) -> float:
        with self._lock:
            return agent.cpu_done + sum(r.cpu for r in agent.open)

    def memory_of(self, agent: AgentTotals) -> int:
        """Its committed runs' memory and what its open runs kept so far."""
        with self._lock:
            return agent.memory + sum(r.memory for r in agent.open if not r.tainted)

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
        ``owner``; with the same owner, only when ``close`` (a run about to end: its CPU
        and memory are settled up to now)."""
        if self.active:
            st = self._state()
            self._switch(st, owner, st.glue, close)

    def begin_step(self, owner: Run | None, glue: AgentTotals | None = None) -> Run | None:
        """An asyncio step of ``owner``'s code begins, in a task whose code outside runs is
        ``glue`` of that agent; returns the owner to restore after it."""
        if not self.active:
            return None
        st = self._state()
        outside = st.owner
        self._switch(st, owner, glue)
        return outside

    def end_step(self, outside: Run | None) -> AgentTotals | None:
        """The step ends; returns the agent whose run was current at its end, if any."""
        if not self.active:
            return None
        st = self._state()
        last = st.owner
        self._switch(st, outside, None, settle=self.threaded)
        return last.agent if last is not None else None

    def _switch(self, st: _ThreadState, owner: Run | None, glue: AgentTotals | None,
                close: bool = False, settle: bool = False) -> None:
        """Close the current segment; read the counter where an interval must end: a run
        ending (``close``), another agent's segment beginning, a step ending while agents
        run in several threads (``settle``). Whether other threads ran meanwhile is judged
        at the read (an interval they ran in taints its runs whole, so ending it sooner
        would save none of them)."""
        current = st.owner
        if owner is current and glue is st.glue and not (close or self.exact):
            return  # the same owner goes on: nothing to close yet
        now = _thread_time()
        used = now - st.last_cpu
        st.last_cpu = now
        if current is not None:
            current.cpu += used
            st.interval[current] = st.interval.get(current, 0.0) + used
            st.parties.add(current.agent)
        elif st.glue is not None:
            st.interval_glue[st.glue] = st.interval_glue.get(st.glue, 0.0) + used
            st.parties.add(st.glue)
        cpu = st.interval_cpu = st.interval_cpu + used
        st.owner, st.glue = owner, glue
        if close or self.exact or st.last_memory is None or cpu >= READ_EVERY_CPU_S:
            self._read(st)
        elif cpu >= SMALL_STEP_CPU_S:  # below: too little to matter, and no clock read
            party = owner.agent if owner is not None else glue
            if (settle and st.interval) or (party is not None and party not in st.parties):
                self._read(st)

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

    def _read(self, st: _ThreadState) -> None:
        """Read the counter, with the process's CPU clock on both sides: another thread that
        runs during the read (a GIL switch) counts as another thread in the interval that
        ends here and in the one that begins, since its allocations may fall in either."""
        proc_before = _process_time()
        memory = self._memory()
        proc = _process_time()
        now = _thread_time()
        read_cpu = now - st.last_cpu  # this thread's, since its segment closed: the read
        if st.last_memory is not None and st.interval:
            with self._lock:
                self._settle(st, memory - st.last_memory, _others(st, proc) - read_cpu)
        st.last_cpu = now  # the read's own CPU is charged to no agent
        st.last_proc = proc_before + read_cpu
        st.last_memory = memory
        st.interval_cpu = 0.0
        st.interval = {}
        st.interval_glue = {}
        st.parties = set()

    def _settle(self, st: _ThreadState, delta: int, others: float) -> None:
        """Charge an interval's net allocation to its dominant run, or to none (lock held)."""
        per_agent = dict(st.interval_glue)
        for run, cpu in st.interval.items():
            per_agent[run.agent] = per_agent.get(run.agent, 0.0) + cpu
        agent, agent_cpu = max(per_agent.items(), key=lambda item: item[1])
        owned = sum(per_agent.values())
        unowned = max(0.0, st.interval_cpu - owned - UNOWNED_ALLOWANCE_S)
        if others <= _tolerance(st) and agent_cpu >= DOMINANT_SHARE * (owned + unowned):
            runs = [(cpu, run) for run, cpu in st.interval.items() if run.agent is agent]
            if runs:
                _charge(max(runs, key=lambda item: item[0])[1], delta)
            for run, cpu in st.interval.items():
                if run.agent is not agent and cpu >= SMALL_STEP_CPU_S:
                    run.tainted = True  # what it allocated here went to another run
            return
        for run in st.interval:
            run.tainted = True
        for other in per_agent:
            other.unattributed += 1


def _charge(run: Run, delta: int) -> None:
    if not run.finished:
        run.memory += delta
    elif not run.tainted:  # a late interval of a finished run (work it handed to a thread)
        run.agent.memory += delta


def _others(st: _ThreadState, proc: float) -> float:
    """CPU other threads used since this thread's last read."""
    return (proc - st.last_proc) - st.interval_cpu


def _tolerance(st: _ThreadState) -> float:
    return max(OTHER_THREADS_TOLERANCE_S, OTHER_THREADS_TOLERANCE_SHARE * st.interval_cpu)
