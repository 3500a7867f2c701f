"""Node.js agents, from the preload's runtime series (docs/node.md): V8 heap leaks (memory),
GC time share, major GC rate and heap growth (gc), and event-loop delay (cpu).

Each dimension's grader calls one function here; the series are loaded by
``sql/grading_node_points.sql`` (the heap already summed over its heap spaces, every point
attributed to the agent recorded with its pid).
"""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..node_points import GC_COUNT_SERIES
from ..results import Finding, Leak, Severity, Verdict
from ..session_data import NS, Samples
from .context import Context, Values, agent_series, leak_findings, mib, pct, steady

HEAP_KIND = "v8_heap"  # [leaks.v8_heap] in control_points.toml
HEAP_LABEL = f"V8 heap ({C.V8JS_HEAP_USED})"
MAJOR = str(C.V8jsGcType.MAJOR)


# --- memory -----------------------------------------------------------------------------------


def heap_leaks(ctx: Context, findings: list[Finding], leaks: list[Leak]) -> int:
    """Leak verdicts on every Node process's V8 heap; appends to ``leaks``, returns how many
    series were tested."""
    found, tested = leak_findings(ctx, C.V8JS_HEAP_USED, HEAP_KIND, HEAP_LABEL, findings, mib,
                                  Verdict.MEMORY_LEAK)
    leaks.extend(found)
    return tested


# --- gc ---------------------------------------------------------------------------------------


def gc_figures(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """The gc dimension's Node figures: each the worst Node process, with a warning naming it
    when its score falls below ``assessment.good`` (as the CPython figures do)."""
    heap = agent_series(ctx.data.samples(C.V8JS_HEAP_USED))
    if not heap:
        return
    owner = {pid: agent_id for agent_id, pid, _ in heap}
    measures = {
        "node_time_share": (_time_shares(ctx, owner), pct, Verdict.GC_TIME_SHARE),
        "node_major_gc_per_min": (_major_rates(ctx, owner), lambda v: f"{v:.1f} /min",
                                  Verdict.GC_FULL_COLLECTIONS),
        "node_heap_growth": (_heap_growth(ctx, heap), pct, None),
    }
    for fig, (per_pid, fmt, verdict) in measures.items():
        if not per_pid:
            continue
        v, pid = max((v, p) for p, v in per_pid.items())
        values[fig] = (v, f"{fmt(v)} ({ctx.short(owner.get(pid), pid)})")
        spec = ctx.cfg.figure("gc", fig)
        if verdict is not None and spec.score(v) < ctx.cfg.assessment["good"]:
            agent_id = owner.get(pid)
            findings.append(Finding(
                text=f"{ctx.who(agent_id, pid)}: {spec.description} = {fmt(v)}.",
                severity=Severity.WARNING, agent_id=agent_id,
                agent_name=ctx.agent_name(agent_id), metric=C.V8JS_GC_DURATION, kind=verdict,
                recommendation=_gc_advice(fig, ctx.agent_name(agent_id) or f"pid {pid}")))


def _lived_s(ctx: Context, s: Samples) -> float:
    """Seconds a Node process was observed: first to last export plus one interval (the
    first export comes one interval after the preload started)."""
    return (int(s.ts.max()) - int(s.ts.min())) / NS + ctx.tl.interval_s if len(s) else 0.0


def _total(s: Samples) -> float:
    """A counter's total over its keys: the last running value, or the sum of deltas."""
    keys = set(s.key.tolist())
    if not s.cumulative:
        return float(s.value.sum())
    return float(sum(s.with_key(k).value[-1] for k in keys if len(s.with_key(k))))


def _time_shares(ctx: Context, owner: dict[int, str | None]) -> dict[int, float]:
    """Each Node process's GC seconds over its lifetime, as a share of that lifetime; a process
    that reported no collection at all spent none."""
    gc = ctx.data.samples(C.V8JS_GC_DURATION)
    heap = ctx.data.samples(C.V8JS_HEAP_USED)
    shares = {}
    for pid in owner:
        lived = _lived_s(ctx, heap.where(heap.pid == pid))
        if lived > 0:
            shares[pid] = _total(gc.where(gc.pid == pid)) / lived
    return shares


def _major_rates(ctx: Context, owner: dict[int, str | None]) -> dict[int, float]:
    """Major (mark-sweep-compact) collections per minute of each Node process after warm-up."""
    counts = ctx.data.samples(GC_COUNT_SERIES)
    heap = ctx.data.samples(C.V8JS_HEAP_USED)
    warmup = float(ctx.cfg.leaks["warmup_fraction"])
    rates = {}
    for pid, agent_id in owner.items():
        span = _after_warmup(steady(ctx, agent_id, heap.where(heap.pid == pid)), warmup)
        if len(span) < 3:
            continue
        lo, hi = int(span.ts[0]), int(span.ts[-1])
        major = counts.where((counts.pid == pid) & (counts.key == MAJOR))
        rates[pid] = _increase(major, lo, hi) / ((hi - lo) / NS) * 60
    return rates


def _increase(s: Samples, lo: int, hi: int) -> float:
    """How much a counter grew between the times ``lo`` and ``hi`` (ns). A cumulative series
    without a point before ``lo`` had not counted anything yet at its previous export."""
    if not s.cumulative:
        return float(s.value[(s.ts > lo) & (s.ts <= hi)].sum())
    before, upto = s.value[s.ts <= lo], s.value[s.ts <= hi]
    start = float(before[-1]) if len(before) else 0.0
    return (float(upto[-1]) if len(upto) else start) - start


def _heap_growth(ctx: Context, heap: list[tuple[str | None, int, Samples]]) -> dict[int, float]:
    """Relative growth of each Node process's V8 heap after warm-up (the leak statistics')."""
    growth = {}
    for agent_id, pid, s in heap:
        res = ctx.trend(HEAP_KIND, C.V8JS_HEAP_USED, agent_id, pid, s)
        if res is not None:
            growth[pid] = max(res.relative_growth, 0.0)
    return growth


def _after_warmup(s: Samples, warmup: float) -> Samples:
    order = np.argsort(s.ts, kind="stable")
    s = s.where(order)
    return s.where(np.arange(len(s)) >= int(len(s) * warmup))


def _gc_advice(fig: str, who: str) -> str:
    return {
        "node_time_share": f"{who} spends a large share of its time collecting garbage: "
                           "allocate less per request (reuse buffers, avoid large temporary "
                           "arrays) or give it a larger heap (--max-old-space-size).",
        "node_major_gc_per_min": f"{who} runs frequent major collections: its old generation "
                                 "keeps filling up - look for data kept longer than needed, "
                                 "or a heap close to its limit.",
    }.get(fig, "")


# --- cpu --------------------------------------------------------------------------------------


def loop_delay(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """Event-loop delay: the Node form of a busy agent. Per Node process observed long enough,
    the delay a quarter of its exports reach (p75 of the per-export maximum, after warm-up);
    the worst process is the figure, and each process at or above the warning line gets a
    warning naming it."""
    per_pid = _loop_delays(ctx)
    if not per_pid:
        return
    line = ctx.threshold("cpu", "event_loop_delay_warning")
    worst_delay, worst_pid, worst_agent = max(per_pid)
    values["event_loop_delay"] = (worst_delay, f"{worst_delay:.3f} s "
                                               f"({ctx.short(worst_agent, worst_pid)})")
    blocked = [x for x in per_pid if x[0] >= line]
    for delay, pid, agent_id in sorted(blocked, reverse=True):
        name = ctx.agent_name(agent_id)
        findings.append(Finding(
            text=f"{ctx.who(agent_id, pid)}: its event loop is blocked - a quarter of its "
            f"exports saw timers and I/O wait {delay:.3f} s or more (p75 of "
            f"{C.NODEJS_LOOP_DELAY_MAX}; the warning line is {line:g} s).",
            severity=Severity.WARNING, kind=Verdict.CPU_EVENT_LOOP, agent_id=agent_id,
            agent_name=name, metric=C.NODEJS_LOOP_DELAY_MAX,
            recommendation=f"Move {name or 'this process'}'s long synchronous work off its "
            "event loop (worker_threads, a child process, or smaller chunks with "
            "setImmediate) so timers and I/O are served on time."))
    if not blocked:
        findings.append(Finding(
            text=f"Node event loops stay responsive: the slowest, "
            f"{ctx.short(worst_agent, worst_pid)}, waits {worst_delay:.3f} s at p75.",
            severity=Severity.GOOD, metric=C.NODEJS_LOOP_DELAY_MAX))


def _loop_delays(ctx: Context) -> list[tuple[float, int, str | None]]:
    """(p75 of per-export max delay after warm-up, pid, agent id) of each Node process that
    was observed at least ``event_loop_min_seconds``: start-up module loading and short CLI
    commands that work synchronously and exit are not blocked agents."""
    min_s = ctx.threshold("cpu", "event_loop_min_seconds")
    warmup = float(ctx.cfg.leaks["warmup_fraction"])
    out = []
    for agent_id, pid, s in agent_series(ctx.data.samples(C.NODEJS_LOOP_DELAY_MAX)):
        if _lived_s(ctx, s) < min_s:
            continue
        rest = _after_warmup(steady(ctx, agent_id, s), warmup)
        if len(rest) >= 3:
            out.append((float(np.percentile(rest.value, 75)), pid, agent_id))
    return out
