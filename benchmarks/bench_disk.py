"""Bytes on disk per monitored process-day, and what a day costs to ingest and report.

A simulated session (``--processes`` x ``--hours`` at 1 Hz, generated rather than run): one
real metrics line of the embedded default is recorded from this interpreter (sdk, resource
monitor, CPython metrics; the process samples itself), then repeated once per second per
process with fresh timestamps and values, one file per process as the sdk writes them. Figures:
bytes per process-day (raw; as the sdk's zstd archives of its rotated files, and what archiving
costs; gzip for comparison), the database size against the raw JSON, ingest time against
DuckDB's bare ``read_json`` scan of the same files (also from the archives, into a new
database, and with every group left to the SQL reader), and the time of
``report --since 1h --window 10m``.

    python benchmarks/bench_disk.py [--processes 4] [--hours 1]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from swarmscope.analyzer import api
from swarmscope.analyzer.ingest import ingest
from swarmscope.archive import archive

NS = 1_000_000_000
DAY_S = 86_400


def record_template(tmp: Path) -> str:
    """The last metrics line of a real 4 s run of the embedded default (self-sampled)."""
    code = (f"import swarmscope, time; swarmscope.init(service_name='bench', "
            f"data_dir={str(tmp)!r}, sample_interval=1); time.sleep(4.5); swarmscope.shutdown()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    [metrics] = (tmp / "sdk").glob("metrics.*.jsonl")
    return metrics.read_text().splitlines()[-1]


def generate(template: str, out: Path, processes: int, seconds: int) -> int:
    """Files of ``processes`` x ``seconds`` lines; returns the bytes written."""
    t0 = time.time_ns() - seconds * NS
    stamp = re.compile(r'"(timeUnixNano|startTimeUnixNano)":"\d+"')
    value = re.compile(r'"asInt":"(\d+)"')
    (out / "sdk").mkdir(parents=True)
    total = 0
    for p in range(processes):
        pid = 10_000 + p
        base = template.replace('"session.id","value":{"stringValue":"',
                                '"session.id","value":{"stringValue":"bench-day',
                                1).replace(f'"intValue":"{_pid(template)}"', f'"intValue":"{pid}"')
        rng = random.Random(p)
        path = out / "sdk" / f"metrics.bench.{pid}.{t0}.jsonl"
        with path.open("w") as fh:
            for s in range(seconds):
                ts = str(t0 + s * NS)
                line = stamp.sub(lambda m, ts=ts: f'"{m.group(1)}":"{ts}"', base)
                line = value.sub(
                    lambda m, rng=rng: f'"asInt":"{int(m.group(1)) + rng.randrange(4096)}"',
                    line)
                fh.write(line + "\n")
        total += path.stat().st_size
    return total


def _pid(template: str) -> str:
    return re.search(r'"process.pid","value":\{"intValue":"(\d+)"', template).group(1)


def bare_scan(out: Path) -> float:
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"SELECT count(*), sum(len(resourceMetrics)) FROM read_json("
                f"'{out}/sdk/*.jsonl', format='newline_delimited', "
                f"columns={{resourceMetrics: 'JSON[]'}})").fetchall()
    return time.perf_counter() - started


def sql_reader_ingest(out: Path, data_dir: Path) -> float:
    """Seconds to ingest the files with every group left to the SQL reader (the reader
    before the Arrow reader), into a database of its own."""
    started = time.perf_counter()
    ingest([out / "sdk"], data_dir, progress=False, arrow=False)
    elapsed = time.perf_counter() - started
    shutil.rmtree(data_dir, ignore_errors=True)
    return elapsed


def gzip_bytes(out: Path) -> int:
    """For comparison: gzip at its default level."""
    total = 0
    for f in (out / "sdk").glob("*.jsonl"):
        total += len(gzip.compress(f.read_bytes(), compresslevel=6))
    return total


def archived_ingest(out: Path, archived: Path) -> tuple[int, float, float]:
    """The same files as the sdk's archives of rotated files: their bytes, the CPU seconds
    archiving took, and the seconds to ingest them into a new database."""
    (archived / "sdk").mkdir(parents=True)
    packed, cpu = 0, 0.0
    for f in (out / "sdk").glob("*.jsonl"):
        copy = archived / "sdk" / f.name
        shutil.copyfile(f, copy)
        started = time.process_time()
        packed += archive(copy)
        cpu += time.process_time() - started
    started = time.perf_counter()
    ingest(None, archived, progress=False)
    return packed, cpu, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--hours", type=float, default=1.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-disk-"))
    try:
        template = record_template(tmp / "template")
        seconds = int(args.hours * 3600)
        out = tmp / "data"
        raw = generate(template, out, args.processes, seconds)
        per_day = raw / args.processes / seconds * DAY_S
        gz_day = gzip_bytes(out) / args.processes / seconds * DAY_S
        scan = bare_scan(out)
        sql_reader_s = sql_reader_ingest(out, tmp / "sql-reader")
        started = time.perf_counter()
        ingest(None, out, progress=False)
        ingest_s = time.perf_counter() - started
        db_bytes = (out / "swarmscope.duckdb").stat().st_size
        packed, archive_cpu, from_archives_s = archived_ingest(out, tmp / "archived")
        started = time.perf_counter()
        g = api.grade("bench-day", out, None, ingest_first=False, since="1h", window="10m")
        report_s = time.perf_counter() - started
        print(json.dumps({
            "processes": args.processes, "hours": args.hours,
            "line_bytes": len(template) + 1,
            "raw_mb": round(raw / 1e6, 1),
            "raw_mb_per_process_day": round(per_day / 1e6, 1),
            "archived_mb_per_process_day": round(packed / args.processes / seconds * DAY_S / 1e6,
                                                 1),
            "archive_cpu_s_per_process_day": round(archive_cpu / args.processes / seconds
                                                   * DAY_S, 1),
            "gzip_mb_per_process_day": round(gz_day / 1e6, 1),
            "db_mb": round(db_bytes / 1e6, 1), "db_over_raw": round(db_bytes / raw, 3),
            "bare_scan_s": round(scan, 2), "ingest_s": round(ingest_s, 2),
            "scan_over_ingest": round(scan / ingest_s, 3),
            "sql_reader_ingest_s": round(sql_reader_s, 2),
            "ingest_from_archives_s": round(from_archives_s, 2),
            "scan_over_archive_ingest": round(scan / from_archives_s, 3),
            "windowed_report_s": round(report_s, 2), "windows": len(g.windows),
        }, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
