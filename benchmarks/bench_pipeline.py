"""Collector pipeline throughput: sdk -> OTLP/gRPC -> Collector -> OTLP JSON Lines file.

1. Sustained rate with zero loss: the producer offers spans at fixed rates (1k, 2k, 5k, ...
   spans/s, a few seconds each) through the sdk's span pipeline (BatchSpanProcessor with the
   settings swarmscope.init() uses, OTLP/gRPC exporter) to the real Collector; a step counts
   as sustained when every span it produced is in the Collector's traces file.
2. Baseline in the same run: the same sdk pipeline exporting to a no-op exporter, as fast as
   the producer can go: the sdk's own ceiling, the most any pipeline behind it could carry.
   Also the unpaced rate into the Collector, and how much of it arrived.
3. The Collector process under that load: resident memory (peak, idle) and CPU share per step.

Usage: python benchmarks/bench_pipeline.py [--step-seconds 3] [--no-docs]
Writes the figures to docs/performance.md under "## Collector pipeline".
"""

from __future__ import annotations

import json
import platform
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psutil
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from perfdoc import arguments, replace_section
from swarmscope import conventions as conv
from swarmscope.collector.distribution import COLLECTOR_VERSION, build
from swarmscope.collector.runner import CollectorSettings, RunningCollector, start

HEADING = "## Collector pipeline"
RATES = (1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 60_000)
SCHEDULE_DELAY_MS = 1000  # what swarmscope.init() configures at the default 1 s interval


class NoOpExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider(exporter: SpanExporter) -> TracerProvider:
    tp = TracerProvider(resource=Resource.create({conv.SERVICE_NAME: "bench-pipeline"}))
    tp.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=SCHEDULE_DELAY_MS))
    return tp


def produce(tp: TracerProvider, count: int, rate: float | None) -> float:
    """Create ``count`` spans, paced at ``rate`` spans/s (None: flat out); returns seconds."""
    tracer = tp.get_tracer("bench")
    started = time.perf_counter()
    for i in range(count):
        span = tracer.start_span(
            "invoke_agent bench", attributes={conv.GEN_AI_AGENT_ID: f"a{i % 8}"}
        )
        span.end()
        if rate and i % 50 == 0:
            ahead = started + i / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
    return time.perf_counter() - started


class FileCounter:
    """Spans in the Collector's traces file, reading only the lines added since last time."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.spans = path, 0, 0

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            for rs in json.loads(line).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    self.spans += len(ss.get("spans", []))
        return self.spans

    def wait_for(self, expected: int, quiet_seconds: float = 3.0) -> int:
        """Wait until ``expected`` spans are in the file or it stops growing."""
        last, last_change = self.count(), time.monotonic()
        while last < expected and time.monotonic() - last_change < quiet_seconds:
            time.sleep(0.1)
            now = self.count()
            if now != last:
                last, last_change = now, time.monotonic()
        return last


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self.stop_flag = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stop_flag.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)


def collector_counters(collector: RunningCollector) -> dict[str, float]:
    """The Collector's own span counters (Prometheus text): accepted, refused, sent, failed."""
    url = f"http://{collector.settings.host}:{collector.settings.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("otelcol_") and "_spans" in line:
            name = line.split("{", 1)[0].split(" ", 1)[0]
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def start_collector(data_dir: Path) -> RunningCollector:
    ports = set()
    while len(ports) < 4:
        ports.add(free_port())
    grpc, http, health, metrics = ports
    return start(CollectorSettings(
        data_dir=data_dir, grpc_port=grpc, http_port=http, health_port=health,
        metrics_port=metrics,
    ))  # fmt: skip


def run(step_seconds: float, flat_out_spans: int) -> dict:
    results: dict = {"steps": []}
    # Baseline: the sdk's own ceiling with nothing behind it.
    noop = provider(NoOpExporter())
    produce(noop, 2_000, None)  # warm up
    seconds = produce(noop, flat_out_spans, None)
    noop.force_flush()
    results["noop_rate"] = flat_out_spans / seconds
    noop.shutdown()

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        collector = start_collector(Path(tmp))
        proc = psutil.Process(collector.pid)
        time.sleep(1.0)
        results["rss_idle"] = proc.memory_info().rss
        sampler = RssSampler(collector.pid)
        sampler.start()
        counter = FileCounter(collector.settings.signal_file(conv.SIGNAL_TRACES))
        tp = provider(OTLPSpanExporter(endpoint=collector.settings.grpc_endpoint, insecure=True))
        produced = 0
        try:
            for rate in RATES:
                count = int(rate * step_seconds)
                cpu_before = sum(proc.cpu_times()[:2])
                seconds = produce(tp, count, rate)
                tp.force_flush()
                produced += count
                delivered = counter.wait_for(produced)
                cpu = sum(proc.cpu_times()[:2]) - cpu_before
                step = {
                    "offered": rate, "achieved": count / seconds, "spans": count,
                    "lost": produced - delivered, "collector_cpu": cpu / seconds,
                }
                results["steps"].append(step)
                print(
                    f"  offered {rate:>6}/s achieved {step['achieved']:>8.0f}/s "
                    f"lost {step['lost']:>6} collector cpu {step['collector_cpu']:.1%}"
                )
                produced = delivered  # count each step's loss once
                if step["lost"] or step["achieved"] < 0.9 * rate:
                    break
            seconds = produce(tp, flat_out_spans, None)
            tp.force_flush()
            delivered = counter.wait_for(produced + flat_out_spans)
            results["flat_out"] = {
                "rate": flat_out_spans / seconds, "spans": flat_out_spans,
                "delivered": delivered - produced,
            }
            results["counters"] = collector_counters(collector)
        finally:
            tp.shutdown()
            sampler.stop_flag.set()
            sampler.join()
            results["rss_peak"] = sampler.peak
            collector.stop()
    sustained = [
        s for s in results["steps"] if not s["lost"] and s["achieved"] >= 0.9 * s["offered"]
    ]
    results["sustained"] = max((s["offered"] for s in sustained), default=0)
    return results


def section(r: dict, step_seconds: float) -> str:
    mib = 1024 * 1024
    flat = r["flat_out"]
    lines = [
        HEADING,
        "",
        f"`python benchmarks/bench_pipeline.py` (Collector {COLLECTOR_VERSION}, "
        f"Python {platform.python_version()}, {psutil.cpu_count()} cores shared with other "
        "work; figures from one run). The sdk's span pipeline (BatchSpanProcessor as "
        "`swarmscope.init()` sets it up) exports over OTLP/gRPC to the Collector built here, "
        "which writes `collector/traces.jsonl`; every span is counted in the file.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| sustained rate with zero loss (sdk -> Collector -> file) | "
        f"**{r['sustained']:,} spans/s** |",
        f"| sdk to a no-op exporter, flat out (baseline, same run) | "
        f"{r['noop_rate']:,.0f} spans/s |",
        f"| sustained / baseline | {r['sustained'] / r['noop_rate']:.2f} |",
        f"| sdk to the Collector, flat out | {flat['rate']:,.0f} spans/s, "
        f"{flat['delivered']:,} of {flat['spans']:,} arrived |",
        f"| Collector RSS idle / peak under load | {r['rss_idle'] / mib:.0f} MiB / "
        f"{r['rss_peak'] / mib:.0f} MiB |",
        "",
        f"Offered rates, {step_seconds:g} s each (stops at the first step that loses spans or "
        "that the producer cannot keep up with):",
        "",
        "| offered spans/s | achieved | lost | Collector CPU (share of one core) |",
        "|---:|---:|---:|---:|",
    ]
    for s in r["steps"]:
        lines.append(
            f"| {s['offered']:,} | {s['achieved']:,.0f} | {s['lost']:,} "
            f"| {s['collector_cpu']:.1%} |"
        )
    counters = r.get("counters", {})
    lines += ["", "The Collector's own counters over the whole run:", ""]
    lines += [f"- `{name}`: {value:,.0f}" for name, value in sorted(counters.items())]
    at_sustained = [s["collector_cpu"] for s in r["steps"] if s["offered"] == r["sustained"]]
    cpu = f"{at_sustained[0]:.1%}" if at_sustained else "n/a"
    lines += [
        "",
        "Reading: the limit is on the sdk side. The producer and the OTLP exporter (protobuf "
        "encoding, gRPC) share one Python process, and the BatchSpanProcessor drops spans "
        "(\"Queue full\") once its 2048-span queue fills faster than the exporter drains it. "
        f"At the sustained rate the Collector used {cpu} of one core, against its own load-test "
        "bar of 10k spans/s at <= 20 % of a core." + collector_loss_sentence(counters),
        "",
    ]
    return "\n".join(lines)


def collector_loss_sentence(counters: dict[str, float]) -> str:
    accepted = counters.get("otelcol_receiver_accepted_spans")
    sent = counters.get("otelcol_exporter_sent_spans")
    refused = counters.get("otelcol_receiver_refused_spans", 0)
    if accepted is None or sent is None:
        return ""
    if accepted == sent and not refused:
        return (
            " The Collector itself lost nothing: every span its receiver accepted was written "
            "to the file and none was refused."
        )
    return f" The Collector accepted {accepted:,.0f} spans and wrote {sent:,.0f}."


def main() -> int:
    args = arguments(__doc__, step_seconds=3.0, flat_out_spans=50_000)
    build(progress=lambda message: print(message, file=sys.stderr))
    results = run(args.step_seconds, args.flat_out_spans)
    text = section(results, args.step_seconds)
    print(text)
    if not args.no_docs:
        print(f"written to {replace_section(HEADING, text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
