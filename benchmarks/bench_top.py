"""``swarmscope top``'s own CPU share on a running 100-agent session.

Starts ``--agents`` real processes (``sleep``: /proc has live pids, start times and limits to
read), then a small writer process that writes the session's files the way a watched session
does, at 1 Hz: one ``create_agent`` span per agent up front, then each second one metrics line
from the watcher (RSS, VMS, CPU by mode, threads, FDs, context switches for every agent) and one
line per agent from its own process (heap blocks, GC counts). ``swarmscope top`` then runs in a
tmux pane (a real terminal, so rich draws every frame) for ``--seconds``; its CPU time is read
from ``/proc/PID/stat`` after a warm-up, so start-up (imports, catching up) is left out. The
``--once --format json`` latency on the same files is measured too, and what the monitor's live
alert rules add to each sampling round over the same processes.

    .venv/bin/python benchmarks/bench_top.py [--agents 100] [--seconds 30] [--warmup 5]

Prints one Markdown table row per figure (docs/performance.md, "swarmscope top").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from swarmscope import procfs

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
WRITER = r'''
import json, os, random, sys, time
data_dir, session = sys.argv[1], sys.argv[2]
pids = [int(p) for p in sys.argv[3].split(",")]
starts = {int(p): float(t) for p, t in (x.split(":") for x in sys.argv[4].split(","))}
sdk = os.path.join(data_dir, "sdk")
os.makedirs(sdk, exist_ok=True)


def kv(k, v):
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    return {"key": k, "value": {"stringValue": v}}


resource = {"attributes": [kv("session.id", session), kv("service.name", "bench"),
                           kv("swarm.host.cpu_count", os.cpu_count() or 1)]}
scope = {"name": "swarmscope"}
spans = []
for i, pid in enumerate(pids):
    attrs = [kv("gen_ai.operation.name", "create_agent"), kv("gen_ai.agent.name", f"worker-{i}"),
             kv("swarm.agent.id", f"worker-{i}-0000"), kv("process.pid", pid),
             kv("process.parent_pid", os.getppid()), kv("swarm.agent.kind", "process")]
    t = str(int(starts[pid] * 1e9))
    spans.append({"traceId": "ab" * 16, "spanId": f"{i + 1:016x}", "kind": 1,
                  "name": f"create_agent worker-{i}", "startTimeUnixNano": t,
                  "endTimeUnixNano": t, "attributes": attrs})
with open(os.path.join(sdk, f"traces.bench.{os.getpid()}.1.jsonl"), "a") as f:
    f.write(json.dumps({"resourceSpans": [{"resource": resource,
                                           "scopeSpans": [{"scope": scope, "spans": spans}]}]}))
    f.write("\n")
watcher = open(os.path.join(sdk, f"metrics.bench.{os.getpid()}.1.jsonl"), "a", buffering=1)
own = {pid: open(os.path.join(sdk, f"metrics.bench.{pid}.2.jsonl"), "a", buffering=1)
       for pid in pids}


def gauge(name, unit, points):
    return {"name": name, "unit": unit, "gauge": {"dataPoints": points}}


def point(pid, value, t, **extra):
    attrs = [kv("process.pid", pid), kv("swarm.agent.id", f"worker-{pids.index(pid)}-0000")]
    attrs += [kv(k.replace("_", "."), v) for k, v in extra.items()]
    p = {"attributes": attrs, "timeUnixNano": t}
    if isinstance(value, float):
        p["asDouble"] = value
    else:
        p["asInt"] = str(value)
    return p


def line(metrics):
    return json.dumps({"resourceMetrics": [{"resource": resource, "scopeMetrics": [
        {"scope": scope, "metrics": metrics}]}]}) + "\n"


tick = time.monotonic()
while True:
    t = str(time.time_ns())
    rss = [point(p, 30_000_000 + random.randrange(10**6), t) for p in pids]
    cpu = [point(p, random.random() / 50, t, cpu_mode=m) for p in pids for m in ("user", "system")]
    switches = [point(p, 1000, t, process_context__switch_type=k)
                for p in pids for k in ("voluntary", "involuntary")]
    watcher.write(line([
        gauge("process.memory.usage", "By", rss),
        gauge("process.memory.virtual", "By", [point(p, 300_000_000, t) for p in pids]),
        gauge("process.cpu.utilization", "1", cpu),
        gauge("process.thread.count", "{thread}", [point(p, 4, t) for p in pids]),
        gauge("process.unix.file_descriptor.count", "{file_descriptor}",
              [point(p, 12, t) for p in pids]),
        gauge("process.context_switches", "{context_switch}", switches),
    ]))
    for pid, f in own.items():
        blocks = [point(pid, 100_000 + random.randrange(1000), t)]
        gcs = [point(pid, 10, t, cpython_gc_generation=g) for g in (0, 1, 2)]
        f.write(line([gauge("cpython.heap.allocated_blocks", "{block}", blocks),
                      gauge("cpython.gc.collections", "{collection}", gcs)]))
    tick += 1.0
    time.sleep(max(0.0, tick - time.monotonic()))
'''


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rules_cost(agents: list[subprocess.Popen[bytes]], rounds: int = 200) -> float:
    """ms per sampling round of the monitor's alert rules (ResourceRules.after_round) over
    ``agents``, on the figures of a real round (times moved on so every round is judged)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from swarmscope.monitor.sampler import ResourceMonitor

    monitor = ResourceMonitor(MeterProvider().get_meter("bench"), system=True,
                              python_runtime=False)  # fmt: skip
    for agent in agents:
        monitor.watch(agent.pid, agent_id=f"a{agent.pid}", agent_name="sleep", descendants=False)
    rules, monitor.alerts = monitor.alerts, None
    for _ in range(3):
        monitor.sample_once()
    pairs, system = monitor.latest(), monitor.system_sample
    start = time.thread_time()
    for _ in range(rounds):
        for sample, _member in pairs:
            sample.time += 1.0
        rules.after_round(pairs, system)
    return (time.thread_time() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("needs tmux")
    home = Path(tempfile.mkdtemp(prefix="bench-top-"))
    data_dir, session = home / "data", "bench" + os.urandom(6).hex()
    agents = [subprocess.Popen(["sleep", "600"]) for _ in range(args.agents)]
    starts = ",".join(f"{a.pid}:{procfs.read_stat(a.pid).create_time}" for a in agents)
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(data_dir),
                               session, ",".join(str(a.pid) for a in agents), starts])  # fmt: skip
    pane = f"bench-top-{os.getpid()}"
    try:
        time.sleep(3)  # the writer's first lines
        t0 = time.monotonic()
        once = subprocess.run([str(SWARMSCOPE), "top", "-d", str(data_dir), "--format", "json"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        once_s = time.monotonic() - t0
        rows = len(json.loads(once.stdout)["agents"])
        subprocess.run(["tmux", "new-session", "-d", "-s", pane, "-x", "200", "-y", "60",
                        f"exec {SWARMSCOPE} top -d {data_dir} --sort m"], check=True)  # fmt: skip
        time.sleep(0.5)
        top_pid = int(subprocess.run(["tmux", "display", "-p", "-t", pane, "#{pane_pid}"],
                                     capture_output=True, text=True).stdout)  # fmt: skip
        time.sleep(args.warmup)
        c0, w0, wc0 = cpu_seconds(top_pid), time.monotonic(), cpu_seconds(writer.pid)
        time.sleep(args.seconds)
        c1, w1, wc1 = cpu_seconds(top_pid), time.monotonic(), cpu_seconds(writer.pid)
        written = sum(p.stat().st_size for p in (data_dir / "sdk").glob("*.jsonl"))
        share, writer_share = (c1 - c0) / (w1 - w0), (wc1 - wc0) / (w1 - w0)
        print(f"agents: {args.agents}, files: {len(list((data_dir / 'sdk').glob('*.jsonl')))}, "
              f"written so far: {written / 1e6:.1f} MB, {rows} rows in --once")
        print("| figure | value |\n|---|---:|")
        print(f"| top's CPU share, {args.seconds:.0f} s after a {args.warmup:.0f} s warm-up "
              f"(1 s refresh, tmux {200}x{60}) | {share * 100:.2f} % of one core |")
        print(f"| the writer's own CPU share (for scale) | {writer_share * 100:.2f} % of one "
              "core |")
        print(f"| `top --once --format json` wall time | {once_s:.2f} s |")
        print(f"| the monitor's alert rules per sampling round, {args.agents} processes | "
              f"{rules_cost(agents):.2f} ms |")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", pane], capture_output=True)
        writer.kill()
        for agent in agents:
            agent.kill()
        for agent in [writer, *agents]:
            agent.wait()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
