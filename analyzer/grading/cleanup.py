"""Cleanup after termination: orphans, zombies, unterminated agents, handles and memory back
to baseline. Hooks are not trusted: the audit's span events and the samples are the evidence."""

from __future__ import annotations

from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, HungProcess, LeftoverProcess, Severity, Verdict
from ..session_data import NS, LeftoverRecord, SessionData
from .context import Context, Values, agent_series, dimension, pct, released_share
from .inproc import unfinished_runs

Leftovers = dict[int, LeftoverProcess]
INIT_PID = 1


def grade_cleanup(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    d = ctx.data
    orphans, zombies, transient = _audited_leftovers(ctx)
    _late_samples(ctx, orphans, zombies)
    hung = _hung(ctx)
    audited = bool(d.cleanup) or bool(d.hung) or _has_audit(d)
    terminated = [a for a in d.agents if a.terminate_ns is not None]
    if audited or (terminated and len(d.samples(C.PROCESS_MEMORY_USAGE))):
        values["orphans"] = (len(orphans), str(len(orphans)))
    if audited:
        values["zombies"] = (len(zombies), str(len(zombies)))
        values["hung"] = (len(hung), str(len(hung)))
    findings += [_orphan_finding(p) for p in orphans.values()]
    findings += [_zombie_finding(p) for p in zombies.values()]
    findings += [_hung_finding(ctx, h) for h in hung]
    if transient:
        findings.append(Finding(
            text=f"{len(transient)} exited process(es) waited less than "
            f"{ctx.threshold('cleanup', 'zombie_grace_seconds'):g} s for their parent to reap "
            "them (pid " + ", ".join(str(r.pid) for r in transient) + "): not left behind."))
    _event_overruns(d, findings)
    _unterminated(ctx, values, findings)
    unfinished_runs(ctx, findings)
    _excess(ctx, values, findings)
    if ctx.ph.post_termination is not None and not ctx.ph.settle_observed:
        findings.append(Finding(
            text=f"Samples end before the {ctx.cfg.settle_seconds:g} s settle window after the "
            "last terminate: the post-termination state is the last sample."))
    if not any(f.severity.flags for f in findings) and values:
        findings.append(Finding(text="Every terminated agent is gone: no orphans, no zombies, "
                                "handles back to baseline.", severity=Severity.GOOD))
    return dimension(ctx, "cleanup", values, findings, orphans=list(orphans.values()),
                     zombies=list(zombies.values()), hung=hung)


def _audited_leftovers(ctx: Context) -> tuple[Leftovers, Leftovers, list[LeftoverRecord]]:
    """Orphans and zombies the cleanup audit reported (one record per pid), and the zombies
    that had waited for their reaper less than the grace period (not left behind)."""
    orphans: Leftovers = {}
    zombies: Leftovers = {}
    transient: dict[int, LeftoverRecord] = {}
    grace = ctx.threshold("cleanup", "zombie_grace_seconds")
    for rec in ctx.data.cleanup:
        if rec.problem == "zombie" and rec.zombie_s is not None and rec.zombie_s < grace:
            transient.setdefault(rec.pid, rec)  # its parent (init) reaps it a moment later
            continue
        target = orphans if rec.problem == "orphan" else zombies
        target.setdefault(rec.pid, LeftoverProcess(
            rec.pid, rec.command, rec.agent_id, ctx.agent_name(rec.agent_id), rec.parent_pid,
            rec.age_s, "audit", parent_name=_parent_name(ctx, rec), zombie_seconds=rec.zombie_s))
    late = [r for pid, r in transient.items() if pid not in zombies]
    return orphans, zombies, late


def _parent_name(ctx: Context, rec: LeftoverRecord) -> str | None:
    """Who the leftover's parent is: as recorded, else the agent with that pid, else init."""
    if rec.parent_name:
        return rec.parent_name
    if rec.parent_pid is None:
        return None
    named = [life for life in ctx.population.lives.values()
             if life.agent.pid == rec.parent_pid]
    if named:
        return max(named, key=lambda x: x.start_ns or 0).agent.name
    return "init" if rec.parent_pid == INIT_PID else None


def _late_samples(ctx: Context, orphans: Leftovers, zombies: Leftovers) -> None:
    """Agent processes still sampled after their agent's terminate plus the settle window."""
    settle_ns = int(ctx.cfg.settle_seconds * NS)
    agents = ctx.data.agent_by_id()
    for agent_id, pid, s in agent_series(ctx.data.samples(C.PROCESS_MEMORY_USAGE)):
        a = agents.get(agent_id) if agent_id else None
        if a is None or a.terminate_ns is None or pid < 0 or pid in orphans or pid in zombies:
            continue
        # a zombie has no resident memory: whether it is reaped is the zombie rule's question
        late = s.ts[(s.ts > a.terminate_ns + settle_ns) & (s.value > 0)]
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
        kind=Verdict.CLEANUP_ORPHAN,
        recommendation=f"Make {p.agent_name or 'the agent'} stop and reap its children before "
        "it exits, or run it in its own process group or cgroup and end that on terminate: "
        f"pid {p.pid} outlived it.")


def _zombie_finding(p: LeftoverProcess) -> Finding:
    parent = _who_reaps(p)
    waited = f" for {p.zombie_seconds:.0f} s" if p.zombie_seconds is not None else ""
    return Finding(
        text=f"Zombie: pid {p.pid}" + (f" ({p.command})" if p.command else "")
        + f" of agent {p.agent_name or p.agent or 'unknown'} exited but was never reaped"
        + (f": its parent, {parent}, has not waited for it{waited}." if parent else "."),
        severity=Severity.CRITICAL, agent_id=p.agent, agent_name=p.agent_name,
        kind=Verdict.CLEANUP_ZOMBIE,
        recommendation="Reap exited children: call wait()/Popen.wait() (or handle SIGCHLD) in "
        f"{parent or 'the parent of pid ' + str(p.pid)}.")


def _who_reaps(p: LeftoverProcess) -> str | None:
    if p.parent_pid is None:
        return p.parent_name
    return f"pid {p.parent_pid}" + (f" ({p.parent_name})" if p.parent_name else "")


def _hung(ctx: Context) -> list[HungProcess]:
    """Hung processes from the audit's events, one per pid (the longest idle time)."""
    found: dict[int, HungProcess] = {}
    pids = {life.agent.pid: life.agent for life in ctx.population.lives.values()}
    for rec in ctx.data.hung:
        agent_id = rec.agent_id or (pids[rec.pid].agent_id if rec.pid in pids else None)
        known = found.get(rec.pid)
        if known is None or (rec.idle_s or 0) > (known.idle_seconds or 0):
            found[rec.pid] = HungProcess(rec.pid, agent_id, ctx.agent_name(agent_id),
                                         rec.waiting_on, rec.idle_s, rec.holder_pid)
    return list(found.values())


def _hung_finding(ctx: Context, h: HungProcess) -> Finding:
    idle = f" for {h.idle_seconds:.0f} s" if h.idle_seconds is not None else ""
    holder = f", held open by pid {h.holder_pid}" if h.holder_pid is not None else ""
    return Finding(
        text=f"Hung: pid {h.pid} of agent {h.agent_name or h.agent or 'unknown'} has waited"
        f"{idle} on {h.waiting_on or 'a read'}{holder}, alive, without CPU or input.",
        severity=Severity.WARNING, agent_id=h.agent, agent_name=h.agent_name,
        kind=Verdict.CLEANUP_HUNG,
        recommendation=f"Close the write end of what pid {h.pid} reads once its input is "
        "written (a worker's stdin after the prompt), or give the worker a timeout: it waits "
        "for input that never comes.")


def _unterminated(ctx: Context, values: Values, findings: list[Finding]) -> None:
    if not ctx.data.agents:
        return
    open_agents = [a for a in ctx.data.agents if a.spawn_ns and a.terminate_ns is None]
    values["unterminated_agents"] = (len(open_agents), str(len(open_agents)))
    for a in open_agents:
        findings.append(Finding(
            text=f"Agent {a.name} was spawned but never terminated (no terminate record).",
            severity=Severity.WARNING, agent_id=a.agent_id, agent_name=a.name,
            kind=Verdict.CLEANUP_UNTERMINATED,
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
                kind=Verdict.CLEANUP_FD_EXCESS if kind == "fds" else Verdict.CLEANUP_THREAD_EXCESS,
                recommendation=f"Release {label} when agents stop: they stay above the "
                "baseline."))
    rel = released_share(tl, ph, tl.session_rss, "rss")
    if rel:
        base, peak, post, _ = rel
        excess = max(post - base, 0.0) / (base if base > 0 else max(peak, 1.0))
        values["memory_excess"] = (excess, pct(excess))


def _event_overruns(d: SessionData, findings: list[Finding]) -> None:
    """What the evidence may lack: no judgement on the session, which may well be clean."""
    lost = d.facts.get("process_event_overruns")
    if lost:
        findings.append(Finding(
            text=f"The kernel dropped process events {lost} time(s) while the tree was "
            "watched (receive buffer full): processes that started and ended between two "
            "scans may be missing from this report, with their exit codes."))


def _has_audit(d: SessionData) -> bool:
    return bool(d.facts.get("audit_spans"))
