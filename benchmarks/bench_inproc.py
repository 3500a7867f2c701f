"""The cost of attributing CPU and memory to in-process agents, on a realistic agent loop.

Three pydantic-ai agents (its offline ``TestModel``, one tool each) run concurrently under
pydantic-ai's own OpenTelemetry instrumentation, in rounds that alternate between

* **bare**: the framework's spans through a TracerProvider with a batch processor;
* **attributed**: the same plus swarmscope's span processor and asyncio stepping (cheap
  memory counters, the default);
* **tracemalloc**: the same in exact mode (``SWARMSCOPE_TRACEMALLOC=1``), tracemalloc on,

so every variant sees the same machine load. Reported: the median CPU per run of each, the
ratios to bare (goal: attributed <= 1.1x), and the added cost per invoke_agent span and per
task step.

    .venv/bin/python benchmarks/bench_inproc.py [--runs 30] [--rounds 9]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from perfdoc import arguments, replace_section
from pydantic_ai import Agent
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.test import TestModel
from swarmscope.record import steps
from swarmscope.record.inproc_setup import InprocAttribution

GOAL = 1.1
HEADING = "## In-process agent attribution"


class Discard(SpanExporter):
    def export(self, spans):  # type: ignore[no-untyped-def]
        return SpanExportResult.SUCCESS


def provider() -> TracerProvider:
    tp = TracerProvider(shutdown_on_exit=False)
    tp.add_span_processor(BatchSpanProcessor(Discard()))
    return tp


def make_agents() -> list[Agent]:
    agents = [Agent(TestModel(), name=f"agent{i}") for i in range(3)]
    for agent in agents:
        @agent.tool_plain
        async def lookup(key: int) -> str:
            return "value " * 20
    return agents


async def workload(agents: list[Agent], runs: int) -> None:
    await asyncio.gather(*(a.run("go") for a in agents for _ in range(runs)))


def timed(agents: list[Agent], runs: int) -> float:
    """CPU seconds per agent run."""
    start = time.process_time()
    asyncio.run(workload(agents, runs))
    return (time.process_time() - start) / (runs * len(agents))


def count_steps(agents: list[Agent], runs: int) -> float:
    """Task steps per agent run (counted once, outside the timed rounds)."""
    counted = [0]
    original = steps.SteppedCoroutine.send

    def send(self, value):  # type: ignore[no-untyped-def]
        counted[0] += 1
        return original(self, value)

    steps.SteppedCoroutine.send = send  # type: ignore[method-assign]
    try:
        asyncio.run(workload(agents, runs))
    finally:
        steps.SteppedCoroutine.send = original  # type: ignore[method-assign]
    return counted[0] / (runs * len(agents))


class Variant:
    """``exact`` None: no attribution (``tracing`` turns tracemalloc on all the same)."""

    def __init__(self, name: str, exact: bool | None, tracing: bool = False) -> None:
        self.name = name
        self.provider = provider()
        self.attribution = None
        if exact is not None:
            self.attribution = InprocAttribution(tracer_provider=self.provider, exact=exact)
            self.attribution.start()
            self.attribution.stop()
        self.exact = bool(exact) or tracing
        self.times: list[float] = []

    def run(self, agents: list[Agent], runs: int) -> None:
        Agent.instrument_all(InstrumentationSettings(tracer_provider=self.provider))
        if self.attribution is not None:
            self.attribution.ledger.active = True
            self.attribution.stepping.install()
            self.attribution.handoff.install()
        if self.exact:
            tracemalloc.start(1)
        try:
            self.times.append(timed(agents, runs))
        finally:
            if self.exact:
                tracemalloc.stop()
            if self.attribution is not None:
                self.attribution.stop()

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def paired(variant: Variant, base: Variant) -> float:
    return statistics.median(v / b for v, b in zip(variant.times, base.times, strict=True))


def main() -> int:
    args = arguments(__doc__, helps={"runs": "runs per agent per round"}, runs=30,
                             rounds=9)
    agents = make_agents()
    bare, attributed, exact = Variant("bare", None), Variant("attributed", False), \
        Variant("tracemalloc", True)
    traced = Variant("tracemalloc only", None, tracing=True)
    attributed.run(agents, 3)  # warm-up: imports, schema caches
    attributed.times.clear()
    Agent.instrument_all(InstrumentationSettings(tracer_provider=attributed.provider))
    attributed.attribution.ledger.active = True
    attributed.attribution.stepping.install()
    steps_per_run = count_steps(agents, 5)
    attributed.attribution.stop()
    for _ in range(args.rounds):
        for variant in (bare, attributed, traced, exact):
            variant.run(agents, args.runs)
    # each round's ratio to the bare run next to it: pairs see the same machine load
    ratio = paired(attributed, bare)
    exact_ratio = paired(exact, bare)
    added = (ratio - 1.0) * bare.median
    lines = [
        HEADING, "",
        f"`benchmarks/bench_inproc.py` (measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {sys.version.split()[0]}, {args.rounds} alternating rounds of 3 concurrent "
        f"pydantic-ai TestModel agents x {args.runs} runs, one tool call per run, on 2 cores "
        "shared with other work). CPU per agent run, median of rounds; ratios are medians of "
        "each round's ratio to the bare round beside it.", "",
        "| variant | CPU per run | ratio to bare |",
        "|---|---:|---:|",
        f"| bare (framework spans, batch processor) | {bare.median * 1e3:.2f} ms | 1.00 |",
        f"| attributed (default: CPU per step, cheap memory counters) | "
        f"{attributed.median * 1e3:.2f} ms | {ratio:.3f} |",
        f"| tracemalloc on, no attribution (for reference) | {traced.median * 1e3:.2f} ms | "
        f"{paired(traced, bare):.3f} |",
        f"| tracemalloc mode (`SWARMSCOPE_TRACEMALLOC=1`) | {exact.median * 1e3:.2f} ms | "
        f"{exact_ratio:.3f} |", "",
        (f"A run has 1 invoke_agent span and {steps_per_run:.0f} task steps: attribution adds "
         f"{added * 1e6:.0f} us per run, i.e. {added / steps_per_run * 1e6:.1f} us per task "
         f"step (or {added * 1e6:.0f} us per invoke_agent span with its steps). "
         if added > 0 else "The difference is within the rounds' noise. ")
        + f"Goal <= {GOAL}x: " + ("met." if ratio <= GOAL else "not met."),
    ]
    print("\n".join(lines))
    if not args.no_docs:
        replace_section(HEADING, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
