"""CPU: host load per core, the busiest agent, agents that spin instead of waiting."""

from __future__ import annotations

import numpy as np
from swarmscope import conventions as C

from ..results import DimensionGrade, Finding, Severity, Verdict
from ..session_data import NS, Samples
from . import node
from .context import Context, Values, agent_series, dimension, per_second, steady

# (median cores after warm-up, agent id, pid, samples) of one process
AgentCpu = tuple[float, str | None, int, Samples]


def agent_cpu(ctx: Context) -> list[AgentCpu]:
    """The median CPU use after warm-up of every process, in cores.

    From process.cpu.utilization (already summed over cpu.mode when loaded), else from the
    rate of process.cpu.time summed over its modes.
    """
    util = ctx.data.samples(C.PROCESS_CPU_UTILIZATION)
    warmup = ctx.cfg.leaks["warmup_fraction"]
    out = []
    if len(util):
        for agent_id, pid, s in agent_series(util):
            s = steady(ctx, agent_id, s)
            rest = s.value[int(len(s) * warmup):]
            if len(rest):
                out.append((float(np.median(rest)) * ctx.cores, agent_id, pid, s))
        return out
    cpu_time = ctx.data.samples(C.PROCESS_CPU_TIME)  # cumulative seconds per mode
    for agent_id, pid, s in agent_series(cpu_time):
        ts = np.unique(s.ts)
        if len(ts) < 3:
            continue
        total = np.array([s.value[s.ts == t].sum() for t in ts])
        rate = np.diff(total) / (np.diff(ts) / NS)
        out.append((float(np.median(rate[int(len(rate) * warmup):])), agent_id, pid, s))
    return out


def grade_cpu(ctx: Context) -> DimensionGrade:
    findings: list[Finding] = []
    values: Values = {}
    if not ctx.data.cpu_count:
        findings.append(Finding(text="Host CPU count unknown: load averages are read as "
                                "per-host, not per core."))
    _load(ctx, values, findings)
    per_process = [x for x in agent_cpu(ctx) if x[1] is not None]
    # A command that starts, works at full speed and exits is not spinning: only processes
    # that lived at least spinning_min_seconds are judged on their CPU use.
    min_s = ctx.threshold("cpu", "spinning_min_seconds")
    per_agent = [x for x in per_process if _lived_seconds(ctx, x[2]) >= min_s]
    findings.extend(_short_busy(ctx, [x for x in per_process if x not in per_agent], min_s))
    if per_agent:
        cores_used, agent_id, _, _ = max(per_agent, key=lambda x: x[0])
        values["agent_cpu_max"] = (cores_used, f"{cores_used:.2f} cores "
                                               f"({ctx.agent_name(agent_id)})")
        busy = _busy_agents(ctx, per_agent, findings)
        if not busy:
            findings.append(Finding(
                text=f"Every agent idles between tasks: the busiest, "
                f"{ctx.agent_name(agent_id)}, uses {cores_used:.2f} cores.",
                severity=Severity.GOOD))
    if per_process:
        findings.extend(_spawn_spikes(ctx))
    node.loop_delay(ctx, values, findings)  # a blocked event loop: a busy Node.js agent
    return dimension(ctx, "cpu", values, findings)


def _cpu_series(ctx: Context, pid: int) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps, cores) of one process over its whole life, from utilisation samples."""
    util = ctx.data.samples(C.PROCESS_CPU_UTILIZATION)
    s = util.where(util.pid == pid)
    return s.ts, s.value * ctx.cores


def _lived_seconds(ctx: Context, pid: int) -> float:
    """How long a process was observed: first to last sample plus one sampling interval."""
    ts, _ = _cpu_series(ctx, pid)
    if not len(ts):
        times = ctx.data.samples(C.PROCESS_CPU_TIME)
        ts = times.ts[times.pid == pid]
    if not len(ts):
        return 0.0
    return (int(ts.max()) - int(ts.min())) / NS + ctx.tl.interval_s


def _busy_seconds(ctx: Context, pid: int, line: float) -> float:
    """The longest stretch of consecutive samples at ``line`` cores or more, in seconds.

    Without utilisation samples the whole observed life counts (the median said busy)."""
    ts, cores = _cpu_series(ctx, pid)
    if not len(ts):
        return _lived_seconds(ctx, pid)
    best, run_start = 0.0, None
    for i, busy in enumerate(cores >= line):
        if busy and run_start is None:
            run_start = i
        if busy:
            best = max(best, (int(ts[i]) - int(ts[run_start])) / NS + ctx.tl.interval_s)
        else:
            run_start = None
    return best


def _short_busy(ctx: Context, short: list[AgentCpu], min_s: float) -> list[Finding]:
    """Short-lived processes that worked at full speed: told, not judged."""
    busy_line = ctx.cfg.figure("cpu", "agent_cpu_max").p10
    busy = [x for x in short if x[0] >= busy_line]
    if not busy:
        return []
    used, a_id, pid, _ = max(busy, key=lambda x: x[0])
    n = len(busy)
    return [Finding(
        text=f"{n} short-lived process{'es' if n != 1 else ''} worked at full speed and "
        f"exited within {min_s:g} s (busiest: {ctx.short(a_id, pid)}, {used:.2f} cores for "
        f"{_lived_seconds(ctx, pid):.1f} s): work done, not spinning - not graded.",
        metric=C.PROCESS_CPU_UTILIZATION)]


def session_load_per_core(ctx: Context) -> tuple[np.ndarray, np.ndarray] | None:
    """(host load per core, the part of it this session's processes account for) on the
    timeline grid; None without load averages or without the processes' CPU.

    The load average counts every runnable thread on the host. Of the CPU time in use
    (``min(cores, load)`` cores), the session's processes used ``session_cpu_cores`` (averaged
    over the trailing minute, as the 1-minute load is); the session's part of the load is the
    load scaled by that share. A busy neighbour on the same host is not the session's fault.
    """
    tl = ctx.tl
    load = tl.load_per_core
    if not len(load) or np.isnan(load).all() or np.isnan(tl.session_cpu_cores).all():
        return None
    cores = ctx.cores
    window = max(1, int(round(60.0 / tl.interval_s)))
    own = np.nan_to_num(tl.session_cpu_cores)
    cumulative = np.concatenate(([0.0], np.cumsum(own)))
    idx = np.arange(len(own))
    start = np.maximum(0, idx + 1 - window)
    trailing = (cumulative[idx + 1] - cumulative[start]) / (idx + 1 - start)
    in_use = np.minimum(cores, np.nan_to_num(load) * cores)
    share = np.clip(np.divide(trailing, in_use, out=np.zeros_like(in_use), where=in_use > 0),
                    0.0, 1.0)
    return load, np.nan_to_num(load) * share


def _load(ctx: Context, values: Values, findings: list[Finding]) -> None:
    """Peak and sustained load per core that the session accounts for, and the finding that
    judges the peak; load from other work on the host is told, not graded."""
    loads = session_load_per_core(ctx)
    if loads is None:
        return
    host, own = loads
    cores = ctx.cores
    peak, host_peak = float(own.max()), float(np.nanmax(host))
    values["load_peak_per_core"] = (peak, f"{peak:.2f} per core")
    ts = ctx.tl.ts
    lo = ctx.ph.first_spawn_ns or int(ts[0])
    hi = ctx.ph.last_terminate_ns or int(ts[-1])
    active = own[(ts >= lo) & (ts <= hi)]
    sustained = float(active.mean()) if len(active) else float(own.mean())
    values["load_sustained_per_core"] = (sustained, f"{sustained:.2f} per core")
    if peak > ctx.threshold("cpu", "load_per_core_critical"):
        sev = Severity.CRITICAL
    elif peak > ctx.threshold("cpu", "load_per_core_warning"):
        sev = Severity.WARNING
    else:
        sev = Severity.GOOD
    neighbours = ""
    if host_peak > max(peak * 1.5, ctx.threshold("cpu", "load_per_core_warning")):
        neighbours = (f" The host's load peaked at {host_peak:.2f} per core: the rest was "
                      "other work on the host, not graded.")
    findings.append(Finding(
        text=f"Load the session accounts for (1 min) peaked at {peak:.2f} per core on {cores} "
        f"core(s); {sustained:.2f} per core while agents were active.{neighbours}",
        severity=sev, metric=C.SYSTEM_LOAD_1M,
        kind=None if sev == Severity.GOOD else Verdict.CPU_LOAD,
        recommendation=None if sev == Severity.GOOD else
        "The session ran more runnable work than the host has cores: cap concurrent agents "
        f"(about {cores} busy agents fit) or spread them over time."))


def _busy_agents(ctx: Context, per_agent: list[AgentCpu],
                 findings: list[Finding]) -> list[str | None]:
    """Agents that keep cores busy (or spin), each with a warning; returns their ids."""
    spec = ctx.cfg.figure("cpu", "agent_cpu_max")
    busy_line = spec.median * ctx.threshold("cpu", "busy_share_of_median")
    max_waits = ctx.threshold("cpu", "spinning_voluntary_switches")
    min_s = ctx.threshold("cpu", "spinning_min_seconds")
    busy = []
    for used, a_id, a_pid, _ in sorted(per_agent, key=lambda x: -x[0]):
        waits = _voluntary_switch_rate(ctx, a_id, a_pid)
        # Spinning: busy and (nearly) never blocking. Under contention a spinner gets
        # less than a core, but it still never gives the CPU up voluntarily.
        spinning = used >= spec.p10 and waits is not None and waits < max_waits
        if used < busy_line and not spinning:
            continue
        # ... and busy for long: a burst of full-speed work between waits is not a spin
        busy_s = _busy_seconds(ctx, a_pid, spec.p10)
        if busy_s < min_s:
            continue
        busy.append(a_id)
        how = (f", and gives the CPU up voluntarily {waits:.1f} times/s" if waits
               is not None else "")
        name = ctx.agent_name(a_id)
        findings.append(Finding(
            text=f"{ctx.who(a_id, a_pid)} keeps {used:.2f} cores busy (median after "
            f"warm-up; {busy_s:.0f} s without a break){how} - it spins rather than waits.",
            severity=Severity.WARNING, kind=Verdict.CPU_SPINNING,
            agent_id=a_id, agent_name=name, metric=C.PROCESS_CPU_UTILIZATION,
            recommendation=f"Make {name} block on its work queue or sleep between "
            "polls instead of busy-looping."))
    return busy


def _voluntary_switch_rate(ctx: Context, agent_id: str | None, pid: int) -> float | None:
    """Voluntary context switches per second after warm-up (how often the process waits)."""
    switches = ctx.data.samples(C.PROCESS_CONTEXT_SWITCHES)
    s = switches.where((switches.pid == pid)
                       & (switches.key == str(C.ContextSwitchType.VOLUNTARY)))
    return per_second(steady(ctx, agent_id, s))


def _spawn_spikes(ctx: Context) -> list[Finding]:
    """Agents whose CPU at start-up (imports) is far above their steady state."""
    util = ctx.data.samples(C.PROCESS_CPU_UTILIZATION)
    window_ns = int(ctx.threshold("cpu", "spawn_spike_seconds") * NS)
    line = ctx.threshold("cpu", "spawn_spike_cores")
    spikes = []
    for a in ctx.data.agents:
        if a.pid is None or a.spawn_ns is None:
            continue
        s = util.where(util.pid == a.pid)
        if len(s) < 4:
            continue
        early = s.value[s.ts <= a.spawn_ns + window_ns]
        if len(early) and early.max() * ctx.cores >= line:
            spikes.append(f"{a.name} {early.max() * ctx.cores:.2f}")
    if not spikes:
        return []
    window = ctx.threshold("cpu", "spawn_spike_seconds")
    return [Finding(text=f"CPU spikes at spawn (cores, first {window:g} s): "
                    + ", ".join(spikes) + ".", metric=C.PROCESS_CPU_UTILIZATION)]
