"""In-process agent attribution on plain OpenTelemetry spans: which run owns which span, the
asyncio stepping wrapper, CPU that adds up and memory charged only where it can be told apart."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from swarmscope import conventions as c
from swarmscope.analyzer.config import load_config
from swarmscope.record.inproc_setup import InprocAttribution
from swarmscope.record.steps import SteppedCoroutine

KEPT: list[list[str]] = []


class Rig:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.attribution = InprocAttribution(
            tracer_provider=self.provider,
            meter_provider=MeterProvider(metric_readers=[self.reader]))
        assert self.attribution.start()
        self.tracer = self.provider.get_tracer("framework")
        self.ledger = self.attribution.ledger

    def totals(self) -> dict[str, tuple[float, int]]:
        return {a.name: (self.ledger.cpu_of(a), a.memory) for a in self.ledger.agents()}

    def runs(self) -> list:
        return [s for s in self.exporter.get_finished_spans()
                if s.attributes.get(c.GEN_AI_OPERATION_NAME) == "invoke_agent"]

    def invoke(self, name: str):
        return self.tracer.start_as_current_span(
            f"invoke_agent {name}",
            attributes={c.GEN_AI_OPERATION_NAME: "invoke_agent", c.GEN_AI_AGENT_NAME: name})


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.attribution.stop()
    KEPT.clear()


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def agent_loop(rig: Rig, name: str, runs: int, work) -> None:
    for _ in range(runs):
        with rig.invoke(name), rig.tracer.start_as_current_span(f"execute_tool {name}-tool"):
            await work()
            await asyncio.sleep(0)


async def leak() -> None:
    KEPT.append([str(i) * 3 for i in range(20_000)])


async def crunch() -> None:
    burn(0.02)


async def tidy() -> None:
    garbage = [str(i) * 3 for i in range(20_000)]
    await asyncio.sleep(0.002)
    del garbage


def test_a_run_is_labelled_at_start_and_measured_at_its_end(rig: Rig) -> None:
    async def main() -> None:
        await agent_loop(rig, "coder", 2, crunch)

    asyncio.run(main())
    runs = rig.runs()
    assert len(runs) == 2
    for span in runs:
        assert span.attributes[c.AGENT_INSTANCE_ID] == c.inproc_agent_id("coder", rig.ledger.pid)
        assert span.attributes[c.AGENT_KIND] == "inproc"
        assert span.attributes[c.AGENT_RUN_CPU_TIME] >= 0.015
        assert c.AGENT_RUN_RETAINED_BLOCKS in span.attributes
        assert c.AGENT_RUN_PROCESS_BLOCKS in span.attributes
    assert rig.attribution.processor.tracked() == 0  # every span that ended left the table


def test_asyncio_agents_are_charged_their_own_steps_and_the_cpu_adds_up(rig: Rig) -> None:
    async def main() -> None:
        await asyncio.gather(agent_loop(rig, "burner", 10, crunch),
                             agent_loop(rig, "sleeper", 10, lambda: asyncio.sleep(0.02)))

    before = time.process_time()
    asyncio.run(main())
    process_cpu = time.process_time() - before
    totals = rig.totals()
    burner, sleeper = totals["burner"][0], totals["sleeper"][0]
    assert burner >= 0.18  # 10 x 20 ms, though the runs overlap the sleeper's in wall time
    assert sleeper < 0.25 * burner
    assert burner + sleeper <= process_cpu + 1e-3


def test_threads_are_charged_their_own_cpu(rig: Rig) -> None:
    def work(name: str, seconds: float) -> None:
        for _ in range(5):
            with rig.invoke(name):
                burn(seconds) if seconds else time.sleep(0.02)

    before = time.process_time()
    threads = [threading.Thread(target=work, args=a) for a in (("busy", 0.02), ("idle", 0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    process_cpu = time.process_time() - before
    totals = rig.totals()
    assert totals["busy"][0] >= 0.09
    assert totals["idle"][0] < 0.02
    assert totals["busy"][0] + totals["idle"][0] <= process_cpu + 1e-3


@pytest.mark.parametrize("mode", ["asyncio", "threads"])
def test_the_leak_is_charged_to_the_leaking_agent_only(rig: Rig, mode: str) -> None:
    if mode == "asyncio":
        async def main() -> None:
            await asyncio.gather(agent_loop(rig, "leaky", 15, leak),
                                 agent_loop(rig, "tidy", 15, tidy))
        asyncio.run(main())
    else:
        def run(name: str, work) -> None:
            asyncio.run(agent_loop(rig, name, 15, work))
        threads = [threading.Thread(target=run, args=a) for a in (("leaky", leak), ("tidy", tidy))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    totals = rig.totals()
    leaky, tidy_blocks = totals["leaky"][1], totals["tidy"][1]
    if mode == "asyncio":
        assert leaky >= 60_000  # of 300 000 kept
    else:
        # threads under CPU contention: a run interrupted by the other thread's work is left
        # out whole, so fewer of the leaky runs count, maybe none (docs/inproc.md); each one
        # that counts kept its 20,000 strings, charged to leaky and not to tidy
        counted = [s for s in rig.runs() if s.attributes[c.AGENT_RUN_MEMORY_COUNTED]
                   and s.attributes[c.GEN_AI_AGENT_NAME] == "leaky"]
        assert leaky >= 0.9 * 20_000 * len(counted)
    # a run counts whole or not at all, so the tidy agent's frees cannot be lost without its
    # allocations: it keeps next to nothing on paper, idle or under CPU contention
    line = load_config().threshold("memory", "inproc_min_blocks_per_run")
    assert abs(tidy_blocks) / 15 < 0.1 * line


def test_frees_in_many_tiny_steps_are_mostly_counted(rig: Rig) -> None:
    # the measured limit of the cheap mode's small-step rule (docs/inproc.md): a well-behaved
    # agent that frees its garbage in 20 tiny steps per run keeps a little on paper
    async def tidy_slowly() -> None:
        garbage = [[str(i) * 3 for i in range(1000)] for _ in range(20)]
        while garbage:
            garbage.pop()
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(agent_loop(rig, "leaky", 15, leak),
                             agent_loop(rig, "tidy", 15, tidy_slowly),
                             agent_loop(rig, "burner", 15, crunch))

    asyncio.run(main())
    totals = rig.totals()
    assert totals["leaky"][1] >= 200_000
    assert abs(totals["tidy"][1]) < 0.2 * totals["leaky"][1]


def test_a_run_named_only_as_it_ends_joins_its_agent(rig: Rig) -> None:
    with rig.tracer.start_as_current_span(
            "invoke_agent", attributes={c.GEN_AI_OPERATION_NAME: "invoke_agent"}) as span:
        burn(0.01)
        span.set_attribute(c.GEN_AI_AGENT_NAME, "late")
    (run,) = rig.runs()
    assert run.attributes[c.AGENT_INSTANCE_ID] == c.inproc_agent_id("late", rig.ledger.pid)
    assert rig.totals()["late"][0] >= 0.009


def test_an_openinference_workflow_span_is_no_agent(rig: Rig) -> None:
    kind = {c.OPENINFERENCE_SPAN_KIND: "AGENT"}
    with rig.tracer.start_as_current_span("Agent workflow", attributes=kind):
        with rig.tracer.start_as_current_span("triage", attributes=kind) as agent_span:
            burn(0.01)
            agent_span.set_attribute(c.OPENINFERENCE_AGENT_NAME, "triage")
    assert set(rig.totals()) == {"triage"}
    named = [s for s in rig.exporter.get_finished_spans() if c.AGENT_INSTANCE_ID in s.attributes]
    assert [s.name for s in named] == ["triage"]


def test_the_owner_table_is_bounded(rig: Rig) -> None:
    rig.attribution.processor.max_spans = 50
    with rig.invoke("many"):
        spans = [rig.tracer.start_span("child") for _ in range(200)]
        assert rig.attribution.processor.tracked() <= 50
        for s in spans:
            s.end()


def test_open_runs_and_agent_threads_are_observed(rig: Rig) -> None:
    started, release = threading.Event(), threading.Event()

    def stuck() -> None:
        with rig.invoke("stuck"):
            started.set()
            release.wait(5)

    thread = threading.Thread(target=stuck, daemon=True)
    thread.start()
    started.wait(5)
    points = {m.name: m.data.data_points[0] for rm in rig.reader.get_metrics_data().resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics}
    release.set()
    thread.join()
    assert points[c.AGENT_RUNS_OPEN].value == 1
    assert points[c.AGENT_THREADS_ALIVE].value == 1
    assert points[c.AGENT_CPU_TIME].attributes[c.AGENT_INSTANCE_ID].startswith("stuck@")


def test_stepping_keeps_results_errors_cancellation_and_context(rig: Rig) -> None:
    var = contextvars.ContextVar("var", default="unset")

    async def child() -> tuple[object, str]:
        await asyncio.sleep(0)
        return asyncio.current_task(), var.get()

    async def fails() -> None:
        await asyncio.sleep(0)
        raise KeyError("boom")

    async def main() -> None:
        var.set("parent")
        task = asyncio.ensure_future(child())
        assert isinstance(task.get_coro(), SteppedCoroutine)
        current, value = await task
        assert current is task and value == "parent"
        with pytest.raises(KeyError):
            await asyncio.create_task(fails())
        sleeper = asyncio.create_task(asyncio.sleep(10))
        await asyncio.sleep(0)
        sleeper.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeper

    asyncio.run(main())


@pytest.mark.parametrize("pool", ["asyncio.to_thread", "anyio.to_thread"])
def test_work_handed_to_a_thread_pool_is_charged_to_the_run(rig: Rig, pool: str) -> None:
    import anyio.to_thread

    def sync_tool() -> None:
        burn(0.03)

    async def work() -> None:
        if pool == "asyncio.to_thread":
            await asyncio.to_thread(sync_tool)
        else:
            await anyio.to_thread.run_sync(sync_tool)

    asyncio.run(agent_loop(rig, "offloader", 4, work))
    assert rig.totals()["offloader"][0] >= 0.11


def test_uninstrument_restores_create_task_and_makes_the_processor_inert(rig: Rig) -> None:
    from concurrent.futures import ThreadPoolExecutor

    patched_submit = ThreadPoolExecutor.submit
    rig.attribution.stop()
    assert ThreadPoolExecutor.submit is not patched_submit

    async def main() -> object:
        return asyncio.create_task(asyncio.sleep(0)).get_coro()

    assert not isinstance(asyncio.run(main()), SteppedCoroutine)
    with rig.invoke("after"):
        pass
    assert c.AGENT_INSTANCE_ID not in rig.runs()[-1].attributes


def test_switch_on_joins_the_programs_own_provider_and_switch_off_undoes_it() -> None:
    from swarmscope.record import inproc_setup

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert inproc_setup.active() is None
    attribution = inproc_setup.switch_on(tracer_provider=provider)
    try:
        assert attribution is not None and inproc_setup.active() is attribution
        with provider.get_tracer("app").start_as_current_span(
                "invoke_agent mine", attributes={c.GEN_AI_OPERATION_NAME: "invoke_agent",
                                                 c.GEN_AI_AGENT_NAME: "mine"}):
            burn(0.005)
    finally:
        inproc_setup.switch_off()
    assert inproc_setup.active() is None
    (span,) = exporter.get_finished_spans()
    assert span.attributes[c.AGENT_INSTANCE_ID] == c.inproc_agent_id("mine", attribution.ledger.pid)
