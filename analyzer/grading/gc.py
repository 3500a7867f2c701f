"""Garbage collection (CPython agents that report their own collector): pause share, garbage
rate, full collections, uncollectable objects, heap growth."""

from __future__ import annotations

from collections.abc import Callable

from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, Severity, Verdict
from ..session_data import Samples
from . import node
from .context import Context, Values, agent_series, counter_rate, dimension, pct, per_second, steady

# figure key -> (per-process measure it reads, how the report shows a value)
_FIGURES: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("time_share", "time_share", pct),
    ("collected_rate", "collected_rate", lambda v: f"{v:,.0f} objects/s"),
    ("full_collections_per_min", "full_per_min", lambda v: f"{v:.1f} /min"),
    ("uncollectable", "uncollectable", lambda v: f"{v:.0f}"),
)
_VERDICTS = {"time_share": Verdict.GC_TIME_SHARE, "collected_rate": Verdict.GC_COLLECTED_RATE,
             "full_collections_per_min": Verdict.GC_FULL_COLLECTIONS,
             "uncollectable": Verdict.GC_UNCOLLECTABLE}


def grade_gc(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    node.gc_figures(ctx, values, findings)  # Node.js agents: V8 collections and heap
    per_pid, owner = _per_process(ctx)
    heap = _heap_growth(ctx, owner)
    if not per_pid and not heap and not values:
        findings.append(Finding(text="No CPython GC data: no process of this session reported "
                                "its own garbage collector (non-Python agents, or agents that "
                                "do not call swarmscope.init())."))
        return dimension(ctx, "gc", values, findings)
    for fig, name, fmt in _FIGURES:
        cands = [(m[name], pid) for pid, m in per_pid.items() if name in m]
        if not cands:
            continue
        v, pid = max(cands)
        values[fig] = (max(v, 0.0), f"{fmt(v)} ({ctx.short(owner[pid], pid)})")
        spec = ctx.cfg.figure("gc", fig)
        if spec.score(max(v, 0.0)) < ctx.cfg.assessment["good"]:
            findings.append(Finding(
                text=f"{ctx.who(owner[pid], pid)}: {spec.description} = {fmt(v)}.",
                severity=Severity.WARNING, agent_id=owner[pid],
                agent_name=ctx.agent_name(owner[pid]), kind=_VERDICTS[fig],
                recommendation=_advice(fig, ctx.agent_name(owner[pid]) or f"pid {pid}")))
    per_gen = _collections_per_generation(ctx)
    if per_gen:
        findings.append(Finding(
            text=f"Collections per second across the {per_gen[1]} reporting process(es): "
            + ", ".join(f"generation {gen} {rate:.1f}" for gen, rate in per_gen[0]) + ".",
            metric=C.GC_COLLECTIONS))
    if heap:
        g, pid = max((v, p) for p, v in heap.items())
        values["heap_growth"] = (g, f"{g * 100:.1f} % ({ctx.short(owner[pid], pid)})")
    if not any(f.severity == Severity.WARNING for f in findings):
        share = values.get("time_share")
        findings.append(Finding(
            text="Garbage collection is quiet" + (
                f": GC pauses take at most {share[1]} of wall time" if share else "") + ".",
            severity=Severity.GOOD))
    return dimension(ctx, "gc", values, findings)


def _per_process(ctx: Context) -> tuple[dict[int, dict[str, float]], dict[int, str | None]]:
    """Each measure per reporting process after warm-up, and the agent owning each pid."""
    per_pid: dict[int, dict[str, float]] = {}
    owner: dict[int, str | None] = {}

    def note(metric: str, name: str, fn: Callable[[Samples], float | None]) -> None:
        for agent_id, pid, s in agent_series(ctx.data.samples(metric)):
            v = fn(steady(ctx, agent_id, s))
            if v is not None:
                per_pid.setdefault(pid, {})[name] = v
                owner[pid] = agent_id

    full = str(2)  # generation 2: a full collection
    note(C.GC_PAUSE_DURATION, "time_share", per_second)
    note(C.GC_COLLECTED_OBJECTS, "collected_rate", per_second)
    note(C.GC_COLLECTIONS, "full_per_min",
         lambda s: (r * 60 if (r := per_second(s.with_key(full))) is not None else None))
    note(C.GC_UNCOLLECTABLE_OBJECTS, "uncollectable",
         lambda s: float(sum(s.with_key(k).value[-1] for k in set(s.key.tolist())))
         if len(s) else None)
    return per_pid, owner


def _heap_growth(ctx: Context, owner: dict[int, str | None]) -> dict[int, float]:
    """Relative growth of allocated heap blocks per process after warm-up."""
    heap = {}
    for agent_id, pid, s in agent_series(ctx.data.samples(C.HEAP_ALLOCATED_BLOCKS)):
        res = ctx.trend("heap", C.HEAP_ALLOCATED_BLOCKS, agent_id, pid, s)
        if res is not None:
            heap[pid] = max(res.relative_growth, 0.0)
            owner[pid] = agent_id
    return heap


def _collections_per_generation(ctx: Context) -> tuple[list[tuple[str, float]], int] | None:
    """(generation, collections/s summed over processes) and how many processes reported."""
    rates: dict[str, float] = {}
    series = agent_series(ctx.data.samples(C.GC_COLLECTIONS))
    for agent_id, _, s in series:
        s = steady(ctx, agent_id, s)
        for gen in sorted({k for k in s.key.tolist() if k is not None}):
            r = counter_rate(s.with_key(gen))
            if r:
                rates[gen] = rates.get(gen, 0.0) + r[0] / r[1]
    return (sorted(rates.items()), len(series)) if rates else None


def _advice(fig: str, who: str) -> str:
    return {
        "time_share": f"{who} spends a large share of its time in GC pauses: break reference "
                      "cycles (weakref, explicit close) or raise gc thresholds for its hot loop.",
        "collected_rate": f"{who} creates garbage cycles at a high rate: the cyclic collector, "
                          "not reference counting, frees its objects - break the cycles.",
        "full_collections_per_min": f"{who} triggers frequent full collections: reduce "
                                    "long-lived allocations or call gc.freeze() after start-up.",
        "uncollectable": f"{who} has uncollectable objects: look at gc.garbage for objects "
                         "whose finalizers keep cycles alive.",
    }.get(fig, "")
