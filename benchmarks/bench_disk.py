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

``--archived-only`` writes the session as the embedded default leaves it on disk instead: each
process's file rotated at the sdk's size limit and each rotated file archived as soon as it is
closed, so the raw session never needs the disk (the full day, 100 x 24 h, is ~81 GB raw). It
measures what that layout allows: bytes on disk, the bare scan of the archives, ingest, and the
windowed reports (the last hour by 10 minutes, and the last quarter of the session by the
hour), and the report of the whole session - within the point budget, and point by point where
that fits in memory - each in a process of its own, with its peak RSS.

    python benchmarks/bench_disk.py [--processes 4] [--hours 1]
    python benchmarks/bench_disk.py --archived-only --processes 100 --hours 24
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
from swarmscope.analyzer import api
from swarmscope.analyzer.ingest import ingest
from swarmscope.archive import archive, is_telemetry
from swarmscope.record.rotation import RotatingFile, rotated_name
from swarmscope.settings import DEFAULT_ROTATE_MB

NS = 1_000_000_000
DAY_S = 86_400
POINTS_PER_LINE = 32  # graded points per generated metrics line
WHOLE_POINTS_THAT_FIT = 100_000_000  # ~40 bytes each once loaded, plus the read: ~10 GB


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
    (out / "sdk").mkdir(parents=True)
    total = 0
    for p in range(processes):
        path = out / "sdk" / f"metrics.bench.{10_000 + p}.{t0}.jsonl"
        with path.open("w") as fh:
            for line in _lines(template, p, t0, seconds):
                fh.write(line)
        total += path.stat().st_size
    return total


def generate_archived(template: str, out: Path, processes: int, seconds: int,
                      workers: int) -> dict[str, float]:
    """The same session as the embedded default leaves it on disk: each process's file
    rotated at the sdk's size limit and every rotated file archived as soon as it is closed
    (``sdk/record/rotation.py``), so the raw session is never on disk at once. Processes are
    written ``workers`` at a time; returns the bytes of the raw lines, of the archives and of
    the live (last, raw) files, and the CPU seconds archiving took."""
    t0 = time.time_ns() - seconds * NS
    (out / "sdk").mkdir(parents=True)
    jobs = [(template, out / "sdk", p, t0, seconds) for p in range(processes)]
    totals = {"raw": 0.0, "archived": 0.0, "live": 0.0, "archive_cpu_s": 0.0}
    with multiprocessing.Pool(workers) as pool:
        for done, figures in enumerate(pool.imap_unordered(_write_archived, jobs), 1):
            for key, value in figures.items():
                totals[key] += value
            print(f"generated {done}/{processes} processes", file=sys.stderr, flush=True)
    return totals


def _write_archived(job: tuple[str, Path, int, int, int]) -> dict[str, float]:
    """One process's lines through the sdk's own rotating file; each file it rotates away
    from is archived here, in the foreground, so that archiving's CPU can be timed."""
    template, folder, p, t0, seconds = job
    first = folder / f"metrics.bench.{10_000 + p}.{t0}.jsonl"
    stream = RotatingFile(first, int(DEFAULT_ROTATE_MB * 1e6), max_age_s=0)
    figures = {"raw": 0.0, "archived": 0.0, "live": 0.0, "archive_cpu_s": 0.0}
    for line in _lines(template, p, t0, seconds):
        closed = stream.sequence
        stream.write(line)
        figures["raw"] += len(line)  # the lines are ASCII
        if stream.sequence != closed:
            started = time.process_time()
            figures["archived"] += archive(rotated_name(first, closed))
            figures["archive_cpu_s"] += time.process_time() - started
    stream.close()  # the last file is the one still being written: it stays raw
    figures["live"] = stream.path.stat().st_size
    return figures


def _lines(template: str, p: int, t0: int, seconds: int) -> Iterator[str]:
    """Process ``p``'s lines: the template with its pid and session, a timestamp per second
    and each integer value raised by a random amount."""
    base = template.replace('"session.id","value":{"stringValue":"',
                            '"session.id","value":{"stringValue":"bench-day',
                            1).replace(f'"intValue":"{_pid(template)}"',
                                       f'"intValue":"{10_000 + p}"')
    # the template cut at every timestamp and integer value, filled in per line
    parts = _SLOTS.split(base)
    stamps = range(2, len(parts), 3)
    values = [(i, int(parts[i])) for i in range(2, len(parts), 3) if parts[i - 1] == "asInt"]
    stamps = [i for i in stamps if parts[i - 1] != "asInt"]
    for i in range(1, len(parts), 3):
        parts[i] = f'"{parts[i]}":"'
    rng = random.Random(p)
    for s in range(seconds):
        ts = str(t0 + s * NS)
        for i in stamps:
            parts[i] = ts
        for i, start in values:
            parts[i] = str(start + rng.randrange(4096))
        yield "".join(parts) + "\n"


_SLOTS = re.compile(r'"(timeUnixNano|startTimeUnixNano|asInt)":"(\d+)')


def _pid(template: str) -> str:
    return re.search(r'"process.pid","value":\{"intValue":"(\d+)"', template).group(1)


def bare_scan(out: Path) -> float:
    """DuckDB's own read of the files (and archives: it unpacks ``.zst`` itself)."""
    con = duckdb.connect()
    files = [str(f) for f in sorted((out / "sdk").iterdir()) if is_telemetry(f)]
    started = time.perf_counter()
    con.execute(f"SELECT count(*), sum(len(resourceMetrics)) FROM read_json("
                f"{files!r}, format='newline_delimited', "
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
    ap.add_argument("--archived-only", action="store_true",
                    help="write the session as the embedded default leaves it on disk "
                         "(rotated, archived as written) and skip the figures that need "
                         "every raw file at once")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes written side by side (--archived-only)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the generated files and databases, and say where")
    ap.add_argument("--again", type=Path, metavar="DIR",
                    help="only scan and report, again, the data directory a --keep run left")
    args = ap.parse_args()
    if args.again:
        figures = {"bare_scan_s": round(bare_scan(args.again), 2)}
        _progress(figures)
        print(json.dumps(figures | reports(args.again, args.hours, args.processes), indent=2))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-disk-"))
    try:
        template = record_template(tmp / "template")
        run = archived_only if args.archived_only else raw_and_archived
        figures = run(template, tmp, args)
        print(json.dumps(figures, indent=2))
    finally:
        if args.keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def raw_and_archived(template: str, tmp: Path, args: argparse.Namespace) -> dict:
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
    report_s, windows = windowed_report(out, "1h", "10m")
    return {
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
        "windowed_report_s": report_s, "windows": windows,
    }


def archived_only(template: str, tmp: Path, args: argparse.Namespace) -> dict:
    """How a full day fits a machine's disk: 100 processes x 24 h is ~81 GB raw."""
    seconds = int(args.hours * 3600)
    out = tmp / "data"
    figures: dict = {"processes": args.processes, "hours": args.hours}
    started = time.perf_counter()
    written = generate_archived(template, out, args.processes, seconds, args.workers)
    process_days = args.processes * seconds / DAY_S
    figures |= {
        "generate_s": round(time.perf_counter() - started, 1),
        "raw_mb": round(written["raw"] / 1e6, 1),
        "on_disk_mb": round((written["archived"] + written["live"]) / 1e6, 1),
        "archives_mb": round(written["archived"] / 1e6, 1),
        "live_files_mb": round(written["live"] / 1e6, 1),
        "on_disk_mb_per_process_day": round((written["archived"] + written["live"])
                                            / process_days / 1e6, 1),
        "archive_cpu_s_per_process_day": round(written["archive_cpu_s"] / process_days, 1),
    }
    _progress(figures)
    figures["bare_scan_s"] = round(bare_scan(out), 2)
    _progress(figures)
    started = time.perf_counter()
    ingest(None, out, progress=False)
    figures["ingest_s"] = round(time.perf_counter() - started, 1)
    figures["ingest_mb_per_s"] = round(written["raw"] / 1e6 / figures["ingest_s"], 1)
    figures["scan_over_ingest"] = round(figures["bare_scan_s"] / figures["ingest_s"], 3)
    db_bytes = (out / "swarmscope.duckdb").stat().st_size
    figures |= {"db_mb": round(db_bytes / 1e6, 1),
                "db_over_raw": round(db_bytes / written["raw"], 3)}
    _progress(figures)
    return figures | reports(out, args.hours, args.processes)


def reports(out: Path, hours: float, processes: int) -> dict:
    """The last hour by 10 minutes, the last quarter of the session by the hour, and the whole
    session: within the point budget, and point by point where that fits in memory."""
    figures: dict = {}
    figures["windowed_report_s"], figures["windows"] = windowed_report(out, "1h", "10m")
    _progress(figures)
    quarter = f"{hours / 4:g}h"
    figures[f"since_{quarter}_hourly_report_s"], figures["hourly_windows"] = windowed_report(
        out, quarter, "1h")
    _progress(figures)
    figures["whole_report"] = whole_report(out, None)
    _progress(figures)
    if processes * hours * 3600 * POINTS_PER_LINE <= WHOLE_POINTS_THAT_FIT:
        figures["whole_report_every_point"] = whole_report(out, 10**12)
    return figures


def whole_report(out: Path, max_points: int | None) -> dict:
    """The report of the whole session in a process of its own: seconds, the step its points
    were read at, and that process's peak RSS. ``max_points`` overrides [points] max_graded."""
    code = ("import json, resource, sys, time; from pathlib import Path; "
            "from swarmscope.analyzer import api; "
            "from swarmscope.analyzer.config import load_config; "
            "t = time.perf_counter(); "
            "g = api.grade('bench-day', Path(sys.argv[1]), "
            "load_config(sys.argv[2] or None), ingest_first=False); "
            "print('RESULT', json.dumps([time.perf_counter() - t, "
            "g.configuration.get('graded_point_step_s'), "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))")
    config = ""
    if max_points is not None:
        config = str(out / "bench-points.toml")
        Path(config).write_text(f"[points]\nmax_graded = {max_points}\n")
    done = subprocess.run([sys.executable, "-c", code, str(out), config], check=True,
                          capture_output=True, text=True)
    # DuckDB draws its progress bar on stdout under `python -c` (it takes that for interactive)
    [result] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    seconds, step, peak_kb = json.loads(result.removeprefix("RESULT "))
    return {"seconds": round(seconds, 1), "point_step_s": step, "peak_rss_mb": peak_kb // 1024}


def windowed_report(out: Path, since: str, window: str) -> tuple[float, int]:
    started = time.perf_counter()
    g = api.grade("bench-day", out, None, ingest_first=False, since=since, window=window)
    # No grades: every generated integer is noise of up to 4,095 - thread and FD counts and
    # cumulative counters too - so the simulated day's grades say nothing about grading.
    return round(time.perf_counter() - started, 2), len(g.windows)


def _progress(figures: dict) -> None:
    """A long run's figures so far, so that an interrupted run still leaves them."""
    print(json.dumps(figures), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
