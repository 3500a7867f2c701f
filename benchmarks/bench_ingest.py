"""Ingest throughput against DuckDB's bare read_json scan of the same files.

Generates a corpus of OTLP JSON Lines shaped like the sdk's and the Collector's output
(traces with lifecycle spans, metrics with gauge/sum/histogram points, all attribute kinds)
in a temp directory, then for each size (default 100 MB, 300 MB, 1 GB):

  * baseline: ``read_json`` with the same explicit structure, every line parsed and the
    top-level lists materialised (``SELECT count(*), sum(len(...))``) — the ceiling;
  * ingest: ``swarmscope.analyzer.ingest.ingest`` into a fresh database, and the same with
    every group left to the SQL reader (``ingest(..., arrow=False)``).

Prints MB/s, rows/s and the ratio ingest/baseline (goal: >= 0.3), and how ingest time grows
from the smallest to the largest size. The corpus is deleted afterwards.

    .venv/bin/python benchmarks/bench_ingest.py [--sizes-mb 100,300,1024] [--file-mb 32]
        [--trace-share 0.5]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from swarmscope import conventions as C
from swarmscope.analyzer.db import load_sql
from swarmscope.analyzer.ingest import ingest

T0 = 1_795_000_000_000_000_000


def _kv(key: str, value) -> dict:
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": str(x)} for x in value]}}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def _resource(session: str, pid: int) -> dict:
    return {
        "attributes": [
            _kv(C.SERVICE_NAME, "bench-swarm"),
            _kv(C.SESSION_ID, session),
            _kv(C.SWARM_TOPOLOGY, "mesh"),
            _kv(C.SWARM_MAX_AGENTS, 8),
            _kv(C.HOST_NAME, "bench-host"),
            _kv(C.PROCESS_PID, pid),
        ]
    }


def _trace_line(rng: random.Random, session: str, seq: int, spans: int = 200) -> str:
    out = []
    for i in range(spans):
        agent = f"agent-{i % 8}"
        start = T0 + (seq * spans + i) * 1_000_000
        op = list(C.Operation)[i % 3]
        out.append({
            "traceId": f"{rng.getrandbits(128):032X}",
            "spanId": f"{rng.getrandbits(64):016x}",
            "parentSpanId": f"{rng.getrandbits(64):016x}",
            "flags": 256,
            "name": C.span_name(op, agent),
            "kind": 1,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 500_000),
            "attributes": [
                _kv(C.GEN_AI_OPERATION_NAME, str(op)),
                _kv(C.GEN_AI_AGENT_ID, agent),
                _kv(C.GEN_AI_AGENT_NAME, agent),
                _kv(C.PROCESS_PID, 1000 + i % 8),
                _kv(C.TASK_NAME, "summarise"),
                _kv("bench.ratio", rng.random()),
                _kv("bench.flag", bool(i % 2)),
                _kv("bench.tags", ["a", "b"]),
            ],
            "events": [{"timeUnixNano": str(start + 1000), "name": "step",
                        "attributes": [_kv("n", i)]}],
            "status": {"code": 2 if i % 50 == 0 else 0},
        })
    doc = {"resourceSpans": [{"resource": _resource(session, 999),
                              "scopeSpans": [{"scope": {"name": C.SCOPE_NAME}, "spans": out}]}]}
    return json.dumps(doc, separators=(",", ":"))


def _metric_line(rng: random.Random, session: str, seq: int, pids: int = 40) -> str:
    ts = str(T0 + seq * 1_000_000_000)
    metrics = []
    for name in (C.PROCESS_MEMORY_USAGE, C.PROCESS_THREAD_COUNT, C.PROCESS_FD_COUNT):
        metrics.append({"name": name, "unit": C.UNITS[name], "gauge": {"dataPoints": [
            {"timeUnixNano": ts, "asInt": str(rng.randrange(1 << 30)),
             "attributes": [_kv(C.PROCESS_PID, 1000 + p), _kv(C.GEN_AI_AGENT_ID, f"agent-{p}")]}
            for p in range(pids)]}})
    metrics.append({"name": C.PROCESS_CPU_TIME, "unit": "s", "sum": {
        "aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"startTimeUnixNano": str(T0), "timeUnixNano": ts, "asDouble": rng.random() * 10,
             "attributes": [_kv(C.PROCESS_PID, 1000 + p), _kv(C.CPU_MODE, "user")]}
            for p in range(pids)]}})
    metrics.append({"name": C.GC_PAUSE_DURATION, "unit": "s", "histogram": {
        "aggregationTemporality": 2, "dataPoints": [
            {"startTimeUnixNano": str(T0), "timeUnixNano": ts, "count": "12", "sum": 0.03,
             "bucketCounts": ["1", "5", "6", "0"], "explicitBounds": [0.001, 0.01, 0.1],
             "min": 0.0005, "max": 0.05}]}})
    doc = {"resourceMetrics": [{"resource": _resource(session, 999), "scopeMetrics": [
        {"scope": {"name": C.SCOPE_NAME}, "metrics": metrics}]}]}
    return json.dumps(doc, separators=(",", ":"))


def generate(
    folder: Path, total_mb: int, file_mb: float, trace_share: float = 0.5, seed: int = 7
) -> int:
    """Write about total_mb of OTLP JSON Lines into folder; return the bytes written.

    ``trace_share`` of the lines are TracesData (200 spans each), the rest MetricsData
    (about 160 points each)."""
    rng = random.Random(seed)
    trace_lines = [_trace_line(rng, "bench", i) for i in range(20)]
    metric_lines = [_metric_line(rng, "bench", i) for i in range(20)]
    written, n = 0, 0
    target = total_mb * 1024 * 1024
    while written < target:
        path = folder / f"part-{n:05d}.jsonl"
        chunk = 0
        with path.open("w") as fh:
            while chunk < file_mb * 1024 * 1024 and written + chunk < target:
                pool = trace_lines if rng.random() < trace_share else metric_lines
                line = pool[rng.randrange(len(pool))] + "\n"
                fh.write(line)
                chunk += len(line)
        written += chunk
        n += 1
    return written


def bare_scan(folder: Path, store: Path | None = None) -> float:
    """Seconds for DuckDB's read_json over the corpus with the same explicit structure:
    a scan (every line parsed, the top-level lists built), or with ``store`` the same rows
    stored unflattened in a database file (what ingest has to do at the least)."""
    con = duckdb.connect(str(store) if store else ":memory:")
    con.execute(load_sql("ingest_shape"))  # otlp_columns(): the structure ingest reads with
    source = ("read_json(?, format = 'newline_delimited', columns = otlp_columns(), "
              "maximum_object_size = 536870912)")
    t = time.perf_counter()
    if store:
        con.execute("CREATE TABLE docs AS SELECT * FROM " + source, [str(folder / "*.jsonl")])
    else:
        con.execute(
            "SELECT count(*), sum(len(resourceSpans)), sum(len(resourceMetrics)) FROM " + source,
            [str(folder / "*.jsonl")],
        ).fetchall()
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def _sql_reader_only(corpus: Path, data_dir: Path) -> float:
    """Seconds to ingest with every group left to the SQL reader (the reader before the
    Arrow reader), into a database of its own."""
    t = time.perf_counter()
    ingest([corpus], data_dir=data_dir, progress=False, arrow=False)
    elapsed = time.perf_counter() - t
    shutil.rmtree(data_dir, ignore_errors=True)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes-mb", default="100,300,1024")
    ap.add_argument("--file-mb", type=float, default=32,
                    help="size of each file; e.g. 0.05 for many small per-process files")
    ap.add_argument("--trace-share", type=float, default=0.5,
                    help="share of lines that are traces (the rest metrics); a monitored "
                    "swarm writes mostly metrics, e.g. 0.05")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes_mb.split(",")]
    results = []
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix="swarmscope-bench-ingest-"))
        try:
            corpus = work / "corpus"
            corpus.mkdir()
            nbytes = generate(corpus, size, args.file_mb, args.trace_share)
            mb = nbytes / 1e6
            scan_s = bare_scan(corpus)
            store_s = bare_scan(corpus, work / "bare.duckdb")
            (work / "bare.duckdb").unlink()
            sql_s = _sql_reader_only(corpus, work / "sql")
            t = time.perf_counter()
            summary = ingest([corpus], data_dir=work / "data", progress=False)
            ingest_s = time.perf_counter() - t
            rows = summary.total_rows
            again = ingest([corpus], data_dir=work / "data", progress=False).total_rows
            results.append((size, mb, scan_s, ingest_s, rows))
            print(f"{mb:8.0f} MB | bare read_json scan {scan_s:6.2f} s ({mb / scan_s:6.1f} MB/s)"
                  f" | read_json stored unflattened {store_s:6.2f} s ({mb / store_s:6.1f} MB/s)"
                  f" | ingest {ingest_s:6.2f} s ({mb / ingest_s:6.1f} MB/s, "
                  f"{rows / ingest_s:,.0f} rows/s, {rows:,} rows)"
                  f" | SQL reader alone {sql_s:6.2f} s (Arrow reader x{sql_s / ingest_s:4.2f})"
                  f" | ingest/scan {scan_s / ingest_s:4.2f}x,"
                  f" ingest/stored {store_s / ingest_s:4.2f}x"
                  f" | re-run added {again} rows", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if len(results) > 1:
        (_, mb0, _, t0, _), (_, mb1, _, t1, _) = results[0], results[-1]
        print(f"growth {mb0:.0f} MB -> {mb1:.0f} MB: data x{mb1 / mb0:.1f}, "
              f"ingest time x{t1 / t0:.1f}")


if __name__ == "__main__":
    main()
