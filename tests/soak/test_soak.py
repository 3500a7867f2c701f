"""The shortened soak: 20 worker processes under ``swarmscope run`` for 40 s, one of them
leaking 1 MiB/s of touched memory, the others allocating and freeing blocks under 1.5 MiB.

While it runs, the live leak alert fires once and names the leaker (stderr and the recorded
``swarm_alert`` event) and ``swarmscope top --once --format json`` shows the leaker and the
leak; after it, ``report --since 30s --window 10s`` grades each window and finds the leak in
the leaker alone.

Timing (docs/performance.md, "Soak"). Samples every 0.25 s. The live leak rule's defaults
(a 120-sample window spanning 60 s, after 15 s of warm-up, 60 windows in a row) need about 135 s
at any interval, since its spans are in seconds; so ``SWARMSCOPE_ALERTS`` shortens only its
time spans: 2 s of warm-up, 8 s and 24 samples at least, a 60-sample window, 8 windows in a
row. The tests of a leak (alpha 0.001, growth of at least 2 MiB and 10 % of the level, as the
lower confidence bound) stay the defaults. The leaker is alerted about 12 s after it starts
(2 + 8 + 8 x 0.25 s, later when rounds slip on a busy machine: 24 samples fit in 8 s up to
0.33 s a round); the run lasts 40 s. A steady worker's RSS moves by less than the 2 MiB a leak
must grow, so neither the live rule nor the report can flag one, whatever the load.

Nothing here compares counts from the time-driven run: only who was named, and that the
windows were graded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from otlp_files import span_events
from swarmscope import conventions as c

pytestmark = pytest.mark.slow

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"
SOAK = Path(__file__).resolve().parent / "soak.py"
SECONDS = 40
LEAKER = f"{Path(sys.executable).name} soak.py leaker"  # the name the watcher derives
STEADY = f"{Path(sys.executable).name} soak.py steady"

# Only the leak rule's time spans are shortened; its significance and growth lines stay.
THRESHOLDS = """
[leak]
window = 60
min_samples = 24
min_seconds = 8.0
warmup_seconds = 2.0
confirm = 8
"""


@dataclass
class Soak:
    data_dir: Path
    status: int
    stderr: list[str] = field(default_factory=list)
    alert_after_s: float | None = None
    top: dict[str, Any] | None = None  # the last document taken while the run ran
    top_while_running: bool = False
    report: dict[str, Any] | None = None
    report_status: int | None = None


def _top(env: dict[str, str]) -> dict[str, Any] | None:
    done = subprocess.run([str(SWARMSCOPE), "top", "--once", "--format", "json"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return json.loads(done.stdout) if done.returncode == 0 else None


def _alerted_leak(doc: dict[str, Any] | None) -> bool:
    return bool(doc) and any(f["kind"] == "leak" and f["alerted"] for f in doc["findings"])


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Soak:
    base = tmp_path_factory.mktemp("soak")
    (base / "alerts.toml").write_text(THRESHOLDS)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "SWARMSCOPE_"))}  # fmt: skip
    env.update({c.ENV_ALERTS: str(base / "alerts.toml"), c.ENV_SAMPLE_INTERVAL: "0.25",
                "SWARMSCOPE_DATA_DIR": str(base / "data")})  # fmt: skip
    started = time.monotonic()
    run = subprocess.Popen(
        [str(SWARMSCOPE), "run", "-q", "--", sys.executable, str(SOAK), "--seconds",
         str(SECONDS)], cwd=base, env=env, stderr=subprocess.PIPE, text=True)  # fmt: skip
    result = Soak(base / "data", status=-1)
    alerted = threading.Event()

    def listen() -> None:
        assert run.stderr is not None
        for line in run.stderr:
            result.stderr.append(line.rstrip("\n"))
            if line.startswith("swarmscope: ALERT leak:") and not alerted.is_set():
                result.alert_after_s = time.monotonic() - started
                alerted.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        alerted.wait(SECONDS + 15)
        # top while the soak runs, until it shows the recorded alert (the alert's span is
        # exported in a batch, a moment after the stderr line) or the run ends
        while run.poll() is None:
            doc = _top(env)
            if run.poll() is not None:
                break
            if doc is not None:
                result.top, result.top_while_running = doc, True
            if _alerted_leak(doc):
                break
            time.sleep(1.0)
        result.status = run.wait(timeout=SECONDS + 60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    listener.join(10)
    report = subprocess.run(
        [str(SWARMSCOPE), "report", "--since", "30s", "--window", "10s", "--format", "json"],
        cwd=base, env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    result.report_status = report.returncode
    result.report = json.loads(report.stdout) if report.stdout.startswith("{") else None
    return result


def test_the_run_completes(soak: Soak) -> None:
    assert soak.status == 0, "\n".join(soak.stderr)


def test_the_live_leak_alert_fires_once_naming_the_leaker(soak: Soak) -> None:
    leaks = [line for line in soak.stderr if line.startswith("swarmscope: ALERT leak:")]
    assert len(leaks) == 1, "\n".join(soak.stderr)  # once per process and condition
    assert f"({LEAKER}) rss grows" in leaks[0]
    assert soak.alert_after_s is not None and soak.alert_after_s < SECONDS
    alerts = span_events(soak.data_dir, c.EVENT_ALERT)
    events = [e for e in alerts if e[c.ALERT_CONDITION] == "leak"]
    assert [e[c.GEN_AI_AGENT_NAME] for e in events] == [LEAKER]
    assert events[0][c.ALERT_SERIES] == "rss" and float(events[0][c.ALERT_VALUE]) > 0


def test_top_shows_the_leaker_and_its_alert_while_the_soak_runs(soak: Soak) -> None:
    assert soak.top_while_running and soak.top is not None
    names = [a["name"] for a in soak.top["agents"]]
    assert LEAKER in names and names.count(STEADY) >= 1
    (leaker,) = [a for a in soak.top["agents"] if a["name"] == LEAKER]
    assert leaker["state"] == "running" and leaker["rss_bytes"] > 0
    leaks = [f for f in soak.top["findings"] if f["kind"] in ("leak", "leak_trend")]
    assert leaks and {f["agent"] for f in leaks} == {LEAKER}, soak.top["findings"]
    assert _alerted_leak(soak.top), soak.top["findings"]


def test_the_windowed_report_grades_each_window_and_names_only_the_leaker(soak: Soak) -> None:
    report = soak.report
    assert report is not None, soak.report_status
    assert report["overall"]["grade"] and report["windows"]
    for window in report["windows"]:
        assert window["grade"] and window["samples"] > 0
        assert window["end_ns"] - window["start_ns"] <= 10 * 10**9
        assert all(name.startswith(f"{LEAKER} (") for name in window["leaks"]), window
    leaks = [lk for dim in ("memory", "processes")
             for lk in report["dimensions"][dim].get("leaks", [])]  # fmt: skip
    assert leaks and {lk["agent_name"] for lk in leaks} == {LEAKER}, leaks
    assert any(lk["metric"] == "process.memory.usage" for lk in leaks)
    assert [a["agent_name"] for a in report["alerts"] if a["condition"] == "leak"] == [LEAKER]
