"""In-process agents (the agents of Python frameworks): leaks named after the agent that keeps
the memory, runs that never finished, thread agents alive at shutdown, and their summaries.

An agent's retained memory is the net allocation its own steps kept (the sdk's ledger), one
value after each of its runs. Memory handed out of a run and freed elsewhere (a result the
caller drops, garbage collected during another step) still counts there, so a leak verdict
needs three things: the agent's series leaks by the usual test ([leaks.agent_*]), it keeps at
least a material amount per run, and its process's own heap grows with a leak verdict of which
the agent's growth is a real share. Memory the process gives back is no agent's leak.
"""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..inproc_data import InprocAgent
from ..leaks import TrendResult, analyse_with
from ..results import AgentSummary, Finding, Leak, Severity, Verdict
from ..session_data import NS
from .context import Context, mib

BYTES = "By"


def _kind(unit: str | None) -> str:
    return "agent_bytes" if unit == BYTES else "agent_blocks"


def _amount(value: float, unit: str | None) -> str:
    return mib(value) if unit == BYTES else f"{value:,.0f} blocks"


def _trend(ctx: Context, ns: np.ndarray, values: np.ndarray,
           unit: str | None) -> TrendResult | None:
    keep = np.isfinite(values)
    if keep.sum() < 3:
        return None
    ns, values = ns[keep], values[keep]
    order = np.argsort(ns, kind="stable")
    return analyse_with(ctx.cfg.leaks, _kind(unit), (ns[order] - ns[order][0]) / NS,
                        values[order])


def _per_run(res: TrendResult, agent: InprocAgent) -> float:
    """Growth per run: the slope (per second) times the mean time between its runs."""
    ends = np.sort(agent.mem_ns)
    window = (ends[-1] - ends[0]) / NS if len(ends) > 1 else 0.0
    return res.slope * window / max(len(ends) - 1, 1)


def _process_series(ctx: Context, agent: InprocAgent) -> tuple[np.ndarray, np.ndarray]:
    """The process's heap as each run of any of its in-process agents ended, while ``agent``
    ran (between its first and last measured run): the growth to compare its own with."""
    peers = [a for a in ctx.data.inproc if a.pid == agent.pid and a.unit == agent.unit]
    ns = np.concatenate([a.mem_ns for a in peers])
    heap = np.concatenate([a.process_heap for a in peers])
    during = (ns >= agent.mem_ns.min()) & (ns <= agent.mem_ns.max())
    return ns[during], heap[during]


def inproc_leak_findings(ctx: Context, findings: list[Finding]) -> tuple[list[Leak], int]:
    """Leak verdicts for every in-process agent; returns leaks and agents tested."""
    leaks: list[Leak] = []
    tested = 0
    for agent in ctx.data.inproc:
        res = _trend(ctx, agent.mem_ns, agent.retained, agent.unit)
        if res is None:
            continue
        tested += 1
        if not res.leak:
            continue
        leak = _judge(ctx, agent, res, findings)
        if leak is not None:
            leaks.append(leak)
    return leaks, tested


def _judge(ctx: Context, agent: InprocAgent, res: TrendResult,
           findings: list[Finding]) -> Leak | None:
    unit = agent.unit
    per_run = _per_run(res, agent)
    floor = ctx.threshold("memory", "inproc_min_bytes_per_run" if unit == BYTES
                          else "inproc_min_blocks_per_run")
    who = f"in-process agent {agent.name} (pid {agent.pid if agent.pid is not None else '?'})"
    if per_run < floor:
        findings.append(Finding(
            text=f"{who}: its runs keep {_amount(per_run, unit)} each, a steady trend but "
            f"below the {_amount(floor, unit)} per run that counts as a leak.",
            agent_id=agent.agent_id, agent_name=agent.name))
        return None
    proc = _trend(ctx, *_process_series(ctx, agent), unit)
    share = ctx.threshold("memory", "inproc_min_share_of_process_growth")
    if proc is None or not proc.leak or proc.slope <= 0 or res.slope < share * proc.slope:
        findings.append(Finding(
            text=f"{who}: its runs keep {_amount(per_run, unit)} each, but the process's heap "
            "does not grow with it: memory handed to callers or collected later, no leak.",
            agent_id=agent.agent_id, agent_name=agent.name))
        return None
    metric = C.AGENT_MEMORY_RETAINED_BYTES if unit == BYTES else C.AGENT_MEMORY_RETAINED
    sites = f" Top growth sites: {'; '.join(agent.sites[:3])}." if agent.sites else ""
    findings.append(Finding(
        text=f"{who}: keeps {_amount(per_run, unit)} after every run ({agent.runs} runs, "
        f"Mann-Kendall p = {res.p_value:.2g}); its process's heap grows with it - a leak in "
        f"this agent.{sites}",
        severity=Severity.CRITICAL, agent_id=agent.agent_id, agent_name=agent.name,
        metric=metric, kind=Verdict.MEMORY_INPROC_LEAK,
        recommendation=f"Find what agent {agent.name} keeps from run to run: module-level "
        "caches, lists its tools append to, histories that are never trimmed"
        + ("" if unit == BYTES else "; SWARMSCOPE_TRACEMALLOC=1 names the allocation sites")
        + "."))
    return Leak(agent.agent_id, agent.name, agent.pid, metric, res.slope, res.p_value,
                res.relative_growth, res.level, res.samples)


def unfinished_runs(ctx: Context, findings: list[Finding]) -> int:
    """Cleanup: runs still open at shutdown (the last open-runs point), and thread agents
    still alive then (listed). Returns the number of unfinished runs."""
    total = 0
    for agent in ctx.data.inproc:
        if agent.open_at_end:
            total += agent.open_at_end
            findings.append(Finding(
                text=f"In-process agent {agent.name} (pid {agent.pid}): {agent.open_at_end} "
                "run(s) never finished - invoke_agent spans still open at shutdown.",
                severity=Severity.WARNING, agent_id=agent.agent_id, agent_name=agent.name,
                metric=C.AGENT_RUNS_OPEN, kind=Verdict.CLEANUP_UNFINISHED_RUNS,
                recommendation=f"Make agent {agent.name}'s runs end before the program exits: "
                "await or cancel its tasks, join its threads, give its tools timeouts."))
    alive = [a for a in ctx.data.inproc if a.threads_at_end]
    if alive:
        findings.append(Finding(
            text="Thread agents still alive at shutdown: " + ", ".join(
                f"{a.name} (pid {a.pid}, {a.threads_at_end} thread(s))" for a in alive) + "."))
    return total


def inproc_summaries(ctx: Context) -> list[AgentSummary]:
    """One summary per in-process agent, under the process agent it runs in (if any)."""
    pop = ctx.population
    hosts = {a.pid: a.name for a in sorted(ctx.data.agents, key=lambda a: a.spawn_ns or 0)
             if a.pid is not None}
    out = []
    for agent in ctx.data.inproc:
        first, last = agent.first_ns(), agent.last_ns()
        ended = f"{agent.runs} run(s)"
        if agent.open_at_end:
            ended += f", {agent.open_at_end} unfinished at shutdown"
        if agent.threads_at_end:
            ended += ", thread alive at shutdown"
        out.append(AgentSummary(
            agent.agent_id, agent.name, agent.pid, str(C.AgentKind.INPROC), first, None, None,
            None, started_by=hosts.get(agent.pid), start_s=pop.offset(first),
            lifetime_s=(last - first) / NS if first is not None and last is not None else None,
            ended=ended, cpu_seconds=round(agent.cpu, 4), runs=agent.runs,
            retained=float(agent.retained[-1]) if len(agent.retained) else None,
            retained_unit=agent.unit))
    return out
