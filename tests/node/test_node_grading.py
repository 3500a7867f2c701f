"""Node.js verdicts on real Node programs (no swarmscope code in them) run under the real
``swarmscope run``, graded by ``swarmscope report --format json``: the V8 heap leak of the one
forked worker that keeps what it allocates, and a blocked event loop beside an idle one."""

from __future__ import annotations

from pathlib import Path

from node_runs import heap_used_totals, metric_files, needs_node, points
from swarmscope import conventions as c
from watched_runs import agents_by_pid, report, watched_node, workers

pytestmark = needs_node


def _file_of(data_dir: Path, pid: int) -> Path:
    (path,) = [p for p in metric_files(data_dir) if f".{pid}." in p.name]
    return path


def test_only_the_growing_worker_leaks_and_gc_is_graded(tmp_path: Path) -> None:
    run = watched_node(tmp_path, "fork_pool.js", env={"DURATION_MS": "4000"})
    assert run.returncode == 0, run.stderr
    assert "all workers done" in run.stdout
    pool = workers(run.stdout)
    assert sorted(mode for mode, _ in pool) == ["churn", "churn", "grow"]
    for _, pid in pool:  # every worker has its V8 heap and GC series
        path = _file_of(tmp_path, pid)
        assert points(path, c.V8JS_HEAP_USED) and points(path, c.V8JS_GC_DURATION)
    (grower,) = [pid for mode, pid in pool if mode == "grow"]
    heap = heap_used_totals(_file_of(tmp_path, grower))
    assert heap[-1] - heap[0] > 30e6  # tens of MB kept: what the verdict is about

    rep = report(tmp_path)
    by_pid = agents_by_pid(rep)
    heap_leaks = [lk for lk in rep["dimensions"]["memory"]["leaks"]
                  if lk["metric"] == c.V8JS_HEAP_USED]
    assert [lk["pid"] for lk in heap_leaks] == [grower]
    assert heap_leaks[0]["agent_id"] == by_pid[grower]["agent_id"]
    leaking = {lk["pid"] for lk in rep["dimensions"]["memory"]["leaks"]}
    assert not leaking & {pid for mode, pid in pool if mode == "churn"}
    gc = rep["dimensions"]["gc"]
    assert gc["score"] is not None and gc["assessment"] != "NOT MEASURED"
    assert {"node_time_share", "node_major_gc_per_min"} <= {f["key"] for f in gc["figures"]}


def test_blocked_event_loop_is_flagged_for_that_process_only(tmp_path: Path) -> None:
    # Exports every 0.5 s: each one then holds at least one of the 200 ms blocks (one every
    # 450 ms), so the blocker's exports are blocked ones, whatever the machine's load.
    run = watched_node(tmp_path, "loop_pair.js", env={"DURATION_MS": "6500"}, interval="0.5")
    assert run.returncode == 0, run.stderr
    pids = dict(workers(run.stdout))
    rep = report(tmp_path)
    by_pid = agents_by_pid(rep)
    flagged = [e for e in rep["dimensions"]["cpu"]["evidence"]
               if e["kind"] == "cpu.event_loop_delay"]
    assert [e["agent_id"] for e in flagged] == [by_pid[pids["block"]]["agent_id"]]
    assert f"pid {pids['block']}" in flagged[0]["text"]
    figures = {f["key"]: f for f in rep["dimensions"]["cpu"]["figures"]}
    assert figures["event_loop_delay"]["value"] >= 0.1
