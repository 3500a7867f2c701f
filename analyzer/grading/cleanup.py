"""Cleanup after termination: orphans, zombies, unterminated agents, handles and memory back
to baseline. Hooks are not trusted: the audit's span events and the samples are the evidence."""

from __future__ import annotations

from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, LeftoverProcess, Severity
from ..session_data import NS, SessionData
from .context import Context, Values, agent_series, dimension, pct, released_share

Leftovers = dict[int, LeftoverProcess]


def grade_cleanup(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    d = ctx.data
    orphans, zombies = _audited_leftovers(ctx)
    _late_samples(ctx, orphans, zombies)
    audited = bool(d.cleanup) or _has_audit(d)
    terminated = [a for a in d.agents if a.terminate_ns is not None]
    if audited or (terminated and len(d.samples(C.PROCESS_MEMORY_USAGE))):
        values["orphans"] = (len(orphans), str(len(orphans)))
    if audited:
        values["zombies"] = (len(zombies), str(len(zombies)))
    findings += [_orphan_finding(p) for p in orphans.values()]
    findings += [_zombie_finding(p) for p in zombies.values()]
    _unterminated(ctx, values, findings)
    _excess(ctx, values, findings)
    if ctx.ph.post_termination is not None and not ctx.ph.settle_observed:
        findings.append(Finding(
            text=f"Samples end before the {ctx.cfg.settle_seconds:g} s settle window after the "
            "last terminate: the post-termination state is the last sample."))
    if not any(f.severity.flags for f in findings) and values:
        findings.append(Finding(text="Every terminated agent is gone: no orphans, no zombies, "
                                "handles back to baseline.", severity=Severity.GOOD))
    return dimension(ctx, "cleanup", values, findings, orphans=list(orphans.values()),
                     zombies=list(zombies.values()))


def _audited_leftovers(ctx: Context) -> tuple[Leftovers, Leftovers]:
    """Orphans and zombies the cleanup audit reported (one record per pid)."""
    orphans: Leftovers = {}
    zombies: Leftovers = {}
    for rec in ctx.data.cleanup:
        target = orphans if rec.problem == "orphan" else zombies
        target.setdefault(rec.pid, LeftoverProcess(
            rec.pid, rec.command, rec.agent_id, ctx.agent_name(rec.agent_id), rec.parent_pid,
            rec.age_s, "audit"))
    return orphans, zombies


def _late_samples(ctx: Context, orphans: Leftovers, zombies: Leftovers) -> None:
    """Agent processes still sampled after their agent's terminate plus the settle window."""
    settle_ns = int(ctx.cfg.settle_seconds * NS)
    agents = ctx.data.agent_by_id()
    for agent_id, pid, s in agent_series(ctx.data.samples(C.PROCESS_MEMORY_USAGE)):
        a = agents.get(agent_id) if agent_id else None
        if a is None or a.terminate_ns is None or pid < 0 or pid in orphans or pid in zombies:
            continue
        late = s.ts[s.ts > a.terminate_ns + settle_ns]
        if len(late):
            orphans[pid] = LeftoverProcess(
                pid, None, agent_id, a.name, None,
                (int(late[-1]) - a.terminate_ns) / NS, "metrics")


def _orphan_finding(p: LeftoverProcess) -> Finding:
    return Finding(
        text=f"Orphan: pid {p.pid}" + (f" ({p.command})" if p.command else "")
        + f" of agent {p.agent_name or p.agent or 'unknown'} was still alive after its agent "
        "terminated" + (" (seen in samples after the settle window)" if p.source == "metrics"
                       else "") + ".",
        severity=Severity.CRITICAL, agent_id=p.agent, agent_name=p.agent_name,
        recommendation=f"Make {p.agent_name or 'the agent'} stop and reap its children before "
        "it exits, or run it in its own process group or cgroup and end that on terminate: "
        f"pid {p.pid} outlived it.")


def _zombie_finding(p: LeftoverProcess) -> Finding:
    return Finding(
        text=f"Zombie: pid {p.pid}" + (f" ({p.command})" if p.command else "")
        + f" of agent {p.agent_name or p.agent or 'unknown'} exited but was never reaped.",
        severity=Severity.CRITICAL, agent_id=p.agent, agent_name=p.agent_name,
        recommendation="Reap exited children: call wait()/Popen.wait() (or handle SIGCHLD) in "
        f"the parent of pid {p.pid}.")


def _unterminated(ctx: Context, values: Values, findings: list[Finding]) -> None:
    if not ctx.data.agents:
        return
    open_agents = [a for a in ctx.data.agents if a.spawn_ns and a.terminate_ns is None]
    values["unterminated_agents"] = (len(open_agents), str(len(open_agents)))
    for a in open_agents:
        findings.append(Finding(
            text=f"Agent {a.name} was spawned but never terminated (no terminate record).",
            severity=Severity.WARNING, agent_id=a.agent_id, agent_name=a.name,
            recommendation=f"Terminate {a.name} explicitly (Agent.terminate()) or record its "
            "exit (Agent.record_exit()) so its end is known."))


def _excess(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """FDs, threads and memory still above the baseline after termination + settle."""
    tl, ph = ctx.tl, ctx.ph
    for key, arr, label, kind in (("fd_excess", tl.session_fds, "FDs", "fds"),
                                  ("thread_excess", tl.session_threads, "threads", "threads")):
        rel = released_share(tl, ph, arr, kind)
        if not rel:
            continue
        base, _, post, _ = rel
        excess = max(post - base, 0.0)
        values[key] = (excess, f"{excess:.0f}")
        if excess >= ctx.threshold("cleanup", f"{key}_warning"):
            findings.append(Finding(
                text=f"{excess:.0f} {label} above baseline after termination "
                f"({base:.0f} → {post:.0f}).", severity=Severity.WARNING,
                recommendation=f"Release {label} when agents stop: they stay above the "
                "baseline."))
    rel = released_share(tl, ph, tl.session_rss, "rss")
    if rel:
        base, peak, post, _ = rel
        excess = max(post - base, 0.0) / (base if base > 0 else max(peak, 1.0))
        values["memory_excess"] = (excess, pct(excess))


def _has_audit(d: SessionData) -> bool:
    return bool(d.facts.get("audit_spans"))
