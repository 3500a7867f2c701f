"""The full soak (`make soak`, not part of `make test`): tests/soak/soak.py under
``swarmscope run`` for ``--minutes`` (10 by default) at the default sample interval and the
default alert thresholds, then the windowed report. Prints its figures as one JSON document:
when the live leak alert came and whom it named, what ``top --once --format json`` showed half
way, the watcher's CPU share, the bytes the session wrote, and what the report found.

    python tests/soak/full_soak.py [--minutes 10] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
TICK_S = os.sysconf("SC_CLK_TCK")
DAY_S = 86_400


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK_S  # utime + stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="swarmscope-soak-")) / "data"
    if data.exists():
        shutil.rmtree(data)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "SWARMSCOPE_"))}  # fmt: skip
    env["SWARMSCOPE_DATA_DIR"] = str(data)
    seconds = args.minutes * 60
    started = time.monotonic()
    run = subprocess.Popen(
        [str(SWARMSCOPE), "run", "-q", "--", sys.executable, str(HERE / "soak.py"),
         "--minutes", str(args.minutes), "--workers", str(args.workers)],
        env=env, stderr=subprocess.PIPE, text=True)  # fmt: skip
    alerts: list[tuple[float, str]] = []

    def listen() -> None:
        assert run.stderr is not None
        for line in run.stderr:
            if line.startswith("swarmscope: ALERT"):
                alerts.append((time.monotonic() - started, line.strip()))
            sys.stderr.write(line)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    cpu_start = cpu_seconds(run.pid) or 0.0
    time.sleep(seconds / 2)
    t = time.perf_counter()
    top = subprocess.run([str(SWARMSCOPE), "top", "--format", "json"], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    top_s = time.perf_counter() - t
    shown = json.loads(top.stdout) if top.returncode == 0 else {}
    time.sleep(max(0.0, started + seconds - 5 - time.monotonic()))
    cpu_end, cpu_wall = cpu_seconds(run.pid), time.monotonic() - started
    status = run.wait()
    wall = time.monotonic() - started
    listener.join(5)
    written = sum(f.stat().st_size for f in data.rglob("*.jsonl"))
    t = time.perf_counter()
    report = subprocess.run(
        [str(SWARMSCOPE), "report", "--since", f"{int(seconds)}s", "--window", "1m",
         "--format", "json"], env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    report_s = time.perf_counter() - t
    graded = json.loads(report.stdout) if report.stdout.strip().startswith("{") else {}
    processes = args.workers + 1
    leaks = [lk["agent_name"] for name in ("memory", "processes")
             for lk in graded.get("dimensions", {}).get(name, {}).get("leaks", [])]
    print(json.dumps({
        "minutes": args.minutes, "processes": processes, "run_status": status,
        "wall_s": round(wall, 1),
        "alerts": [{"after_s": round(s, 1), "line": line} for s, line in alerts],
        "top_half_way": {
            "wall_s": round(top_s, 2), "agents": len(shown.get("agents", [])),
            "findings": [(f["kind"], f["agent"], f["alerted"])
                         for f in shown.get("findings", [])]},  # fmt: skip
        "watcher_cpu_share": (round((cpu_end - cpu_start) / cpu_wall, 4)
                              if cpu_end is not None else None),
        "bytes_written": written,
        "mb_per_process_day": round(written / processes / wall * DAY_S / 1e6, 1),
        "report": {
            "status": report.returncode, "wall_s": round(report_s, 1),
            "grade": graded.get("overall", {}).get("grade") if graded else None,
            "leaks": leaks,
            "windows": [(w["grade"], w["leaks"]) for w in graded.get("windows", [])]},
        "data_dir": str(data),
    }, indent=2))


if __name__ == "__main__":
    main()
