"""Per-agent instruments of in-process agents, read from the attribution ledger at export.

Points carry ``gen_ai.agent.name``, ``process.pid`` and ``swarm.agent.id`` (``<name>@<pid>``,
the id the agent's run spans carry). Callbacks only read the ledger's totals, so a collection
costs a few microseconds per agent; once the ledger is inert (uninstrumented) they observe
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from swarmscope import conventions as c
from swarmscope.monitor.attribution import AgentTotals, Ledger


def point_attributes(agent: AgentTotals) -> dict[str, str | int]:
    return {c.GEN_AI_AGENT_NAME: agent.name, c.PROCESS_PID: agent.pid,
            c.AGENT_INSTANCE_ID: agent.agent_id}


def create_agent_instruments(meter: Meter, ledger: Ledger) -> None:
    """Register the per-agent CPU, retained memory, open runs and live threads on ``meter``."""
    observe = _Observers(ledger)
    memory = c.AGENT_MEMORY_RETAINED_BYTES if ledger.exact else c.AGENT_MEMORY_RETAINED
    meter.create_observable_counter(
        c.AGENT_CPU_TIME, [observe.cpu], unit=c.UNITS[c.AGENT_CPU_TIME],
        description="CPU time of an in-process agent's runs (their task steps)")
    meter.create_observable_gauge(
        memory, [observe.memory], unit=c.UNITS[memory],
        description="Net memory an in-process agent's runs allocated and kept")
    meter.create_observable_up_down_counter(
        c.AGENT_RUNS_OPEN, [observe.open_runs], unit=c.UNITS[c.AGENT_RUNS_OPEN],
        description="Runs (invoke_agent spans) of an in-process agent not finished yet")
    meter.create_observable_up_down_counter(
        c.AGENT_THREADS_ALIVE, [observe.threads], unit=c.UNITS[c.AGENT_THREADS_ALIVE],
        description="Live threads (other than the main thread) an in-process agent ran in")


class _Observers:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def _agents(self) -> list[AgentTotals]:
        return self.ledger.agents() if self.ledger.active else []

    def cpu(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.ledger.cpu_of(a), point_attributes(a)) for a in self._agents()]

    def memory(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.ledger.memory_of(a), point_attributes(a))
                for a in self._agents()]

    def open_runs(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.ledger.open_runs(a), point_attributes(a))
                for a in self._agents()]

    def threads(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(sum(1 for t in list(a.threads) if t.is_alive()), point_attributes(a))
                for a in self._agents() if len(a.threads)]
