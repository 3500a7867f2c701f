"""Processes & handles: FD and thread leaks, FDs released after termination, peaks."""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..results import DimensionGrade, DuplicateDaemons, Finding, Severity, Verdict
from .context import Context, Values, dimension, leak_figure, leak_findings, released_finding
from .population import duplicate_daemons


def grade_processes(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    leaks, tested = leak_findings(ctx, C.PROCESS_FD_COUNT, "fds", "open file descriptors",
                                  findings, lambda v: f"{v:.2f} FDs", Verdict.PROCESSES_LEAK)
    t_leaks, t_tested = leak_findings(ctx, C.PROCESS_THREAD_COUNT, "threads", "thread count",
                                      findings, lambda v: f"{v:.2f} threads",
                                      Verdict.PROCESSES_LEAK)
    leaks += t_leaks
    leak_figure(values, findings, leaks, tested + t_tested, "handle leak", "FD/thread")
    _fds_released(ctx, values, findings)
    _peak(ctx, values, C.PROCESS_FD_COUNT, "peak_process_fds")
    _peak(ctx, values, C.PROCESS_THREAD_COUNT, "peak_process_threads")
    _process_count(ctx, findings)
    duplicates = _duplicates(ctx, values, findings)
    return dimension(ctx, "processes", values, findings, leaks=leaks, duplicates=duplicates)


def _duplicates(ctx: Context, values: Values, findings: list[Finding]) -> list[DuplicateDaemons]:
    """Several live instances of one long-lived command at the same time."""
    pop = ctx.population
    if not any(life.start_ns is not None and life.agent.pid is not None
               for life in pop.agents()):
        return []  # no agent process (in-process agents cannot be daemons)
    found = duplicate_daemons(pop, ctx.threshold("processes", "duplicate_overlap_seconds"))
    extra = sum(len(d.pids) - 1 for d in found)
    if extra or values:  # lifecycle spans alone do not make "none found" a resource grade
        values["duplicate_daemons"] = (extra, str(extra))
    for d in found:
        pids = ", ".join(str(p) for p in d.pids)
        findings.append(Finding(
            text=f"{len(d.pids)} instances of {d.command} ran at the same time (pids {pids}; "
            f"overlapping for {d.overlap_seconds:.0f} s), each long-lived: duplicate daemons.",
            severity=Severity.WARNING, agent_name=d.command,
            kind=Verdict.PROCESSES_DUPLICATE_DAEMONS,
            recommendation=f"Start {d.command} once per session: check for a running instance "
            "(a pid or lock file) before starting another, and stop the old one on restart."))
    return found


def _fds_released(ctx: Context, values: Values, findings: list[Finding]) -> None:
    released_finding(
        ctx, values, findings, ctx.tl.session_fds, "fds", "fds_unreleased",
        ("processes", "fds_unreleased_warning"), C.PROCESS_FD_COUNT,
        Verdict.PROCESSES_FDS_UNRELEASED,
        lambda base, peak, post, released: f"FDs: {base:.0f} at baseline, peak {peak:.0f}, "
        f"{post:.0f} after termination - cleanup efficiency {released * 100:.0f} %.",
        "File descriptors outlive the agents: close sockets, pipes and files in the "
        "agents' shutdown path and reap their children.")


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
    pop = ctx.population
    descendants = {}
    for life in pop.agents():
        a = life.agent
        pids = set(rss.pid[rss.agent == a.agent_id].tolist()) - {a.pid, -1}
        pids |= {h.agent.pid for h in pop.helpers_of(a.agent_id) if h.agent.pid is not None}
        if pids:
            descendants[a.name] = descendants.get(a.name, 0) + len(pids)
    helpers = len(pop.lives) - len(pop.agents())
    text = (f"Session processes: peak {np.nanmax(tl.process_count):.0f} at once "
            f"({len(pop.agents())} agents" + (f", {helpers} helper processes" if helpers else "")
            + ")")
    if descendants:
        text += "; descendants: " + ", ".join(f"{name} {n}" for name, n in descendants.items())
    findings.append(Finding(text=text + ".", metric=C.PROCESS_MEMORY_USAGE))
