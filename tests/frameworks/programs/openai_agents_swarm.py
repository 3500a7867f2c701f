"""Three OpenAI Agents SDK agents on a fake model (no network): leaky keeps memory after every
run, burner burns 50 ms of CPU in its tool, tidy is well-behaved. Run under
opentelemetry-instrument, the OpenInference instrumentation (the framework's only OpenTelemetry
form) turns their runs into AGENT / TOOL spans. Prints the CPU the agents' work took."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from agents import Agent, Model, ModelResponse, Runner, Usage, function_tool
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

RUNS = int(os.environ.get("SWARM_RUNS", "24"))
KEPT: list[list[str]] = []


class FakeModel(Model):
    """Calls the agent's one tool, then answers: the Model interface, offline."""

    def __init__(self, tool: str) -> None:
        self.tool = tool

    async def get_response(self, system_instructions: Any, input: Any, model_settings: Any,
                           tools: Any, output_schema: Any, handoffs: Any, tracing: Any,
                           **kwargs: Any) -> ModelResponse:
        called = isinstance(input, list) and any(
            (item.get("type") if isinstance(item, dict) else getattr(item, "type", None))
            == "function_call_output" for item in input)
        if not called:
            output: list[Any] = [ResponseFunctionToolCall(
                type="function_call", call_id="call-1", name=self.tool, arguments="{}",
                id="fc-1")]
        else:
            output = [ResponseOutputMessage(
                id="msg-1", type="message", role="assistant", status="completed",
                content=[ResponseOutputText(type="output_text", text="done", annotations=[])])]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


@function_tool
async def remember() -> str:
    """Keep what was seen."""
    for chunk in range(4):
        KEPT.append([f"{len(KEPT)}-{chunk}-{i}" for i in range(5_000)])
        await asyncio.sleep(0)
    return "kept"


@function_tool
async def crunch() -> str:
    """Work hard."""
    end = time.thread_time() + 0.05
    while time.thread_time() < end:
        pass
    return "crunched"


@function_tool
async def nap() -> str:
    """Rest."""
    scratch = [str(i) for i in range(5_000)]
    await asyncio.sleep(0.01)
    return f"{len(scratch)} done"


AGENTS = [Agent(name=name, instructions="work", tools=[tool], model=FakeModel(tool.name))
          for name, tool in (("leaky", remember), ("burner", crunch), ("tidy", nap))]


async def runs(agent: Agent) -> None:
    for _ in range(RUNS):
        await Runner.run(agent, "go")


async def main() -> None:
    await asyncio.gather(*(runs(a) for a in AGENTS))


if __name__ == "__main__":
    start = time.process_time()
    asyncio.run(main())
    print(json.dumps({"pid": os.getpid(), "work_cpu_s": time.process_time() - start}))
