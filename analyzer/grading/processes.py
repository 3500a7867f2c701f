"""Processes & handles: FD and thread leaks, FDs released after termination, peaks."""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, Severity
from .context import Context, Values, dimension, leak_findings, pct, released_share


def grade_processes(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    leaks, tested = leak_findings(ctx, C.PROCESS_FD_COUNT, "fds", "open file descriptors",
                                  findings, lambda v: f"{v:.2f} FDs")
    t_leaks, t_tested = leak_findings(ctx, C.PROCESS_THREAD_COUNT, "threads", "thread count",
                                      findings, lambda v: f"{v:.2f} threads")
    leaks += t_leaks
    if tested + t_tested:
        values["leaks"] = (len(leaks), f"{len(leaks)} of {tested + t_tested} series")
        if not leaks:
            findings.append(Finding(
                text=f"No handle leak: none of {tested + t_tested} agent FD/thread series "
                "grows with a significant, material trend.", severity=Severity.GOOD))
    _fds_released(ctx, values, findings)
    _peak(ctx, values, C.PROCESS_FD_COUNT, "peak_process_fds")
    _peak(ctx, values, C.PROCESS_THREAD_COUNT, "peak_process_threads")
    _process_count(ctx, findings)
    return dimension(ctx, "processes", values, findings, leaks=leaks)


def _fds_released(ctx: Context, values: Values, findings: list[Finding]) -> None:
    rel = released_share(ctx.tl, ctx.ph, ctx.tl.session_fds, "fds")
    if not rel:
        return
    base, peak, post, unreleased = rel
    values["fds_unreleased"] = (unreleased, pct(unreleased))
    ok = unreleased < ctx.threshold("processes", "fds_unreleased_warning")
    findings.append(Finding(
        text=f"FDs: {base:.0f} at baseline, peak {peak:.0f}, {post:.0f} after termination - "
        f"cleanup efficiency {(1 - unreleased) * 100:.0f} %.",
        severity=Severity.GOOD if ok else Severity.WARNING, metric=C.PROCESS_FD_COUNT,
        recommendation=None if ok else
        "File descriptors outlive the agents: close sockets, pipes and files in the "
        "agents' shutdown path and reap their children."))


def _peak(ctx: Context, values: Values, metric: str, figure: str) -> None:
    """The most of ``metric`` one process held, and which process."""
    s = ctx.data.samples(metric)
    if not len(s):
        return
    i = int(np.argmax(s.value))
    who = ctx.short(s.agent[i], int(s.pid[i]))
    values[figure] = (float(s.value[i]), f"{s.value[i]:.0f} ({who})")


def _process_count(ctx: Context, findings: list[Finding]) -> None:
    """How many processes the session ran at once, and the agents' descendants."""
    tl = ctx.tl
    if np.all(np.isnan(tl.process_count)) or not len(tl.process_count):
        return
    rss = ctx.data.samples(C.PROCESS_MEMORY_USAGE)
    descendants = {}
    for a in ctx.data.agents:
        pids = set(rss.pid[rss.agent == a.agent_id].tolist()) - {a.pid, -1}
        if pids:
            descendants[a.name] = len(pids)
    text = (f"Session processes: peak {np.nanmax(tl.process_count):.0f} at once "
            f"({len(ctx.data.agents)} agents)")
    if descendants:
        text += "; descendants: " + ", ".join(f"{n} {k}" for n, k in descendants.items())
    findings.append(Finding(text=text + ".", metric=C.PROCESS_MEMORY_USAGE))
