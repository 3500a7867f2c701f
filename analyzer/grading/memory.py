"""Memory: RSS and heap leaks per agent, memory released after termination, system peak."""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, Severity, Verdict
from . import node
from .context import (
    Context,
    Values,
    agent_series,
    dimension,
    leak_figure,
    leak_findings,
    mib,
    pct,
    released_finding,
)
from .inproc import inproc_leak_findings


def grade_memory(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    leaks, tested = leak_findings(ctx, C.PROCESS_MEMORY_USAGE, "rss", "RSS", findings, mib,
                                  Verdict.MEMORY_LEAK)
    heap_leaks, heap_tested = leak_findings(ctx, C.HEAP_ALLOCATED_BLOCKS, "heap",
                                            "heap (allocated blocks)", findings,
                                            lambda v: f"{v:,.0f} blocks",
                                            Verdict.MEMORY_LEAK)
    leaks += heap_leaks
    heap_tested += node.heap_leaks(ctx, findings, leaks)  # Node.js: the V8 heap
    inproc_leaks, inproc_tested = inproc_leak_findings(ctx, findings)  # frameworks' agents
    leaks += inproc_leaks
    heap_tested += inproc_tested
    leak_figure(values, findings, leaks, tested + heap_tested, "leak", "RSS/heap")
    _rss_growth(ctx, values)
    _released(ctx, values, findings)
    _system_peak(ctx, values, findings)
    return dimension(ctx, "memory", values, findings, leaks=leaks)


def _rss_growth(ctx: Context, values: Values) -> None:
    """The largest relative RSS growth of any agent after warm-up."""
    growth = []
    for agent_id, pid, s in agent_series(ctx.data.samples(C.PROCESS_MEMORY_USAGE)):
        res = ctx.trend("rss", C.PROCESS_MEMORY_USAGE, agent_id, pid, s)
        if res is not None and agent_id is not None:
            growth.append((max(res.relative_growth, 0.0), agent_id, pid))
    if growth:
        g, agent_id, _ = max(growth)
        values["agent_rss_growth"] = (g, f"{g * 100:.1f} % ({ctx.agent_name(agent_id)})")


def _released(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """How much of the session's memory increase was given back after termination."""
    released_finding(
        ctx, values, findings, ctx.tl.session_rss, "rss", "unreleased",
        ("memory", "unreleased_warning"), C.PROCESS_MEMORY_USAGE, Verdict.MEMORY_UNRELEASED,
        lambda base, peak, post, released: f"Session memory: {mib(base)} at baseline, peak "
        f"{mib(peak)}, {mib(post)} after termination - {released * 100:.0f} % of the "
        "increase released.",
        "Memory stays high after the agents stopped: check for processes left running "
        "and for caches the orchestrator keeps per agent.")


def _system_peak(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """Peak system memory utilisation, from the utilisation metric or usage / total."""
    util = ctx.data.samples(C.SYSTEM_MEMORY_UTILIZATION).with_key(str(C.SystemMemoryState.USED))
    total = ctx.data.facts.get("memory_total")
    if len(util):
        peak_util = float(np.max(util.value))
    elif total and not np.all(np.isnan(ctx.tl.system_memory)):
        peak_util = float(np.nanmax(ctx.tl.system_memory)) / float(total)
    else:
        return
    values["system_peak"] = (peak_util, pct(peak_util))
    line = ctx.threshold("memory", "system_peak_warning")
    high = peak_util >= line
    findings.append(Finding(
        text=f"System memory peaked at {pct(peak_util)} of the host"
        + (f" - above the {line * 100:g} % alert line." if high else "."),
        severity=Severity.WARNING if high else Severity.INFO, metric=C.SYSTEM_MEMORY_UTILIZATION,
        kind=Verdict.MEMORY_SYSTEM_PEAK if high else None,
        recommendation="Lower the number of concurrent agents or give the host more "
        f"memory: the system ran above {line * 100:g} % memory." if high else None))
