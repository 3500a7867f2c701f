"""A lifecycle span through swarmscope vs the same span through the bare OpenTelemetry SDK.

Both sides use the same pipeline (TracerProvider, BatchSpanProcessor, the official OTLP JSON
file exporter, same resource) and produce the same span: ``invoke_agent <agent>`` with the same
attributes under the agent's ``create_agent`` span. What differs is only the swarmscope path
(``agent.task(name)``: parent lookup, nested-task tracking, error recording) against a
hand-written ``tracer.start_as_current_span``. Rounds alternate between the two and the median
per-span time of each is compared, so both see the same machine load. Goal: ratio <= 1.2.

    .venv/bin/python benchmarks/bench_spans.py [--spans 2000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import swarmscope
from opentelemetry import trace
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from perfdoc import arguments, replace_section
from swarmscope import conventions as c

GOAL = 1.2
HEADING = "## SDK spans"


def _time_per_span(body, spans: int) -> float:
    start = time.perf_counter()
    body(spans)
    return (time.perf_counter() - start) / spans


def main() -> int:
    args = arguments(__doc__, helps={"spans": "spans per round"}, spans=2000,
                             rounds=15)

    workdir = Path(tempfile.mkdtemp(prefix="bench-spans-"))
    tel = swarmscope.init(data_dir=workdir / "swarmscope", monitor=False, exporter="file")
    agent = swarmscope.spawn_agent("bench", kind="inproc")

    # The bare SDK: same resource, processor and exporter class, a file of its own.
    bare_provider = TracerProvider(resource=tel.resource, shutdown_on_exit=False)
    bare_provider.add_span_processor(BatchSpanProcessor(FileSpanExporter(workdir / "bare.jsonl")))
    bare_tracer = bare_provider.get_tracer(c.SCOPE_NAME)
    parent = trace.set_span_in_context(trace.NonRecordingSpan(agent.span_context))
    bare_name = c.span_name(c.Operation.INVOKE_AGENT, agent.name)
    bare_attributes = {  # what swarmscope writes on a task span
        c.GEN_AI_OPERATION_NAME: str(c.Operation.INVOKE_AGENT),
        c.GEN_AI_AGENT_ID: agent.id,
        c.GEN_AI_AGENT_NAME: agent.name,
        c.TASK_NAME: "step",
    }

    def via_swarmscope(n: int) -> None:
        for _ in range(n):
            with agent.task("step"):
                pass

    def via_bare_sdk(n: int) -> None:
        for _ in range(n):
            with bare_tracer.start_as_current_span(
                bare_name,
                context=parent,
                kind=SpanKind.INTERNAL,
                attributes=bare_attributes,
            ):
                pass

    def via_bare_floor(n: int) -> None:
        # The cheapest possible span: no context attach, no exception handling.
        for _ in range(n):
            bare_tracer.start_span(
                bare_name,
                context=parent,
                kind=SpanKind.INTERNAL,
                attributes=bare_attributes,
            ).end()

    # Warm up both paths, then alternate; flush between rounds (untimed) so no queue overflows.
    via_swarmscope(200)
    via_bare_sdk(200)
    via_bare_floor(200)
    ours, bare, floor = [], [], []
    for round_number in range(args.rounds):
        order = [(via_swarmscope, ours), (via_bare_sdk, bare), (via_bare_floor, floor)]
        if round_number % 2:
            order.reverse()
        for body, sink in order:
            sink.append(_time_per_span(body, args.spans))
            tel.tracer_provider.force_flush()
            bare_provider.force_flush()

    swarmscope.shutdown()
    bare_provider.shutdown()
    ours_us, bare_us = statistics.median(ours) * 1e6, statistics.median(bare) * 1e6
    floor_us = statistics.median(floor) * 1e6
    ratio = ours_us / bare_us
    verdict = "meets" if ratio <= GOAL else "misses"
    lines = [
        f"swarmscope task span (`with agent.task(...)`): {ours_us:.1f} us/span "
        f"(median of {args.rounds} rounds x {args.spans} spans)",
        f"bare OpenTelemetry SDK span (`with tracer.start_as_current_span(...)`): "
        f"{bare_us:.1f} us/span",
        f"ratio swarmscope / bare SDK: {ratio:.2f} ({verdict} the goal <= {GOAL})",
        f"floor, bare `tracer.start_span(...).end()` without context: {floor_us:.1f} us/span "
        f"(ratio {ours_us / floor_us:.2f})",
    ]
    print("\n".join(lines))
    if not args.no_docs:
        _write_doc(lines, args)
    return 0


def _write_doc(lines: list[str], args: argparse.Namespace) -> None:
    """Replace this benchmark's section of docs/performance.md, keeping everyone else's."""
    section = "\n".join(
        [
            HEADING,
            "",
            "`benchmarks/bench_spans.py`: one `invoke_agent` lifecycle span via `agent.task()` vs "
            "the same span (same attributes, parent, resource, BatchSpanProcessor and OTLP JSON "
            "file exporter) via the bare OpenTelemetry SDK, alternating rounds in one run.",
            "",
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]} "
            f"({args.rounds} rounds x {args.spans} spans):",
            "",
            *[f"- {line}" for line in lines],
            "",
        ]
    )
    replace_section(HEADING, section)


if __name__ == "__main__":
    sys.exit(main())
