"""Three pydantic-ai agents on its offline TestModel, one tool each: leaky keeps ~1.3 MB of
small objects after every run, burner burns 50 ms of CPU in its tool, tidy makes garbage and
sleeps. They run concurrently as asyncio tasks (``asyncio``) or one thread each
(``threads``); ``--instrument`` calls swarmscope.instrument() (else the program relies on
opentelemetry-instrument). Prints the CPU the agents' work took, as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time

if "--instrument" in sys.argv:
    import swarmscope

    swarmscope.instrument()

from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

Agent.instrument_all()  # pydantic-ai's own OpenTelemetry spans, on the global provider
RUNS = int(os.environ.get("SWARM_RUNS", "24"))
KEPT: list[list[str]] = []

leaky = Agent(TestModel(), name="leaky")
burner = Agent(TestModel(), name="burner")
tidy = Agent(TestModel(), name="tidy")


@leaky.tool_plain
async def remember(key: int) -> str:
    for chunk in range(4):  # a cache that grows as the tool goes
        KEPT.append([f"{key}-{chunk}-{i}" for i in range(5_000)])
        await asyncio.sleep(0)
    return "kept"


@burner.tool_plain
async def crunch(key: int) -> str:
    end = time.thread_time() + 0.05
    while time.thread_time() < end:
        pass
    return "crunched"


@tidy.tool_plain
async def nap(key: int) -> str:
    scratch = [f"{key}-{i}" for i in range(5_000)]
    await asyncio.sleep(0.01)
    return f"{len(scratch)} done"


async def runs(agent: Agent) -> None:
    for _ in range(RUNS):
        await agent.run("go")


def in_threads() -> None:
    def loop(agent: Agent) -> None:
        for _ in range(RUNS):
            agent.run_sync("go")

    threads = [threading.Thread(target=loop, args=(a,), name=a.name)
               for a in (leaky, burner, tidy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


async def in_tasks() -> None:
    await asyncio.gather(*(runs(a) for a in (leaky, burner, tidy)))


if __name__ == "__main__":
    start = time.process_time()
    if sys.argv[1] == "threads":
        in_threads()
    else:
        asyncio.run(in_tasks())
    print(json.dumps({"pid": os.getpid(), "work_cpu_s": time.process_time() - start}))
