"""The graded session as a Markdown persistence report.

Sections, in the order of a classic hand-written report: executive summary, key findings
per dimension (with assessment), metrics timeline, strengths, areas for monitoring,
recommendations (derived from the findings), technical details, conclusion.
Every string that came from telemetry is escaped so it cannot inject Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from .results import AgentSummary, DimensionGrade, HelperGroup, SessionGrade, Severity, TreeNode
from .units import MIB, mib

TITLES = {
    "memory": "Memory",
    "cpu": "CPU",
    "processes": "Processes & resource handles",
    "gc": "Garbage collection",
    "cleanup": "Cleanup after termination",
}
SECTIONS = ["Executive summary", "Key findings", "Metrics timeline", "Agents and lifetimes",
            "Process tree", "Strengths", "Areas for monitoring", "Recommendations",
            "Technical details", "Conclusion"]
MAX_TREE_ROWS = 300  # beyond this the Markdown tree stops (the JSON report has all of it)


def esc(value: object) -> str:
    """Telemetry text made inert: no HTML tags, links or images, no table breaks, no
    terminal escape codes or other control characters, one line."""
    from .escape import control  # here, so this helper stays self-contained

    text = str(value).replace("\r", " ").replace("\n", " ")
    for a, b in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"),
                 ("`", "\\`"), ("[", "\\["), ("]", "\\]"), ("!", "\\!")):
        text = text.replace(a, b)
    return control(text)


def _cell(text: str) -> str:
    """Text from the grading configuration (not telemetry): only keep the table intact."""
    return text.replace("|", "\\|").replace("\n", " ")


def _when(ns: int | None) -> str:
    if ns is None:
        return "n/a"
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    """A Markdown table: the header, its rule, a line per row of ready-made cells."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def _score(d: DimensionGrade | SessionGrade) -> str:
    return "n/a" if d.score is None else f"{d.score:.1f}"


def render_markdown(g: SessionGrade) -> str:
    from .report_windows import markdown_windows  # it imports this module
    out: list[str] = []
    add = out.append
    add(f"# Swarm resource report: session {esc(g.session)}\n")
    add(f"Overall grade **{g.grade}** ({_score(g)}/100, {g.assessment}).\n")

    add("## Executive summary\n")
    n_agents = len(g.agents)
    duration = g.configuration.get("duration_s")
    span = f" over {float(duration):.1f} s" if duration else ""
    add(f"The session ran {n_agents} agent{'s' if n_agents != 1 else ''}{span}"
        + (f" in a {esc(g.configuration['topology'])} topology"
           if g.configuration.get("topology") else "") + ". "
        + _summary_sentence(g) + "\n")
    if (note := point_step_note(g)) is not None:
        add(note + "\n")
    add("| Dimension | Grade | Score | Assessment |")
    add("|---|---|---|---|")
    for name, d in g.dimensions.items():
        add(f"| {TITLES[name]} | {d.grade} | {_score(d)} | {d.assessment} |")
    add(f"| **Overall** | **{g.grade}** | **{_score(g)}** | **{g.assessment}** |\n")

    add("## Key findings\n")
    for name, d in g.dimensions.items():
        add(f"### {TITLES[name]}: {d.assessment} ({d.grade}, {_score(d)})\n")
        for f in d.findings:
            mark = f"**{f.severity.upper()}** " if f.severity.flags else ""
            add(f"- {mark}{esc(f.text)}")
        if d.figures:
            out += ["", *_table(("Figure", "Value", "Score", "Weight"), (
                (_cell(fig.label), esc(fig.display), f"{fig.score:.1f}", f"{fig.weight:g}")
                for fig in d.figures))]
        if d.hung:
            out += ["", *_table(("Hung PID", "Agent", "Waiting on", "Idle"), (
                (str(h.pid), esc(h.agent_name or h.agent or "unknown"),
                 esc(h.waiting_on or "unknown"), _secs(h.idle_seconds)) for h in d.hung))]
        if d.not_measured:
            add("\nNot measured: " + "; ".join(_cell(x) for x in d.not_measured) + ".")
        add("")

    add("## Metrics timeline\n")
    if g.phases:
        add("| Phase | Timestamp | System memory | Session memory | Session FDs | Processes "
            "| Key event |")
        add("|---|---|---|---|---|---|---|")
        for r in g.phases:
            add(f"| {r.phase} | {_when(r.ts_ns)} | {mib(r.system_memory)} "
                f"| {mib(r.session_memory)} | {_num(r.session_fds)} | {_num(r.process_count)} "
                f"| {esc(r.event)} |")
        add("")
    out.extend(f"{note}\n" for note in g.phase_notes)

    add("## Agents and lifetimes\n")
    out.extend(_lifetimes(g))
    add("## Process tree\n")
    out.extend(_tree(g.tree))
    add("")

    from .report_alerts import markdown_alerts  # it imports this module
    out.extend(markdown_alerts(g))  # what the session alerted on while it ran
    add("## Strengths\n")
    strengths = [f"{TITLES[n]}: {d.assessment.lower()} ({d.grade})." for n, d in
                 g.dimensions.items() if d.score is not None and d.assessment == "EXCELLENT"]
    strengths += [esc(f.text) for d in g.dimensions.values() for f in d.findings
                  if f.severity == Severity.GOOD]
    out.extend(f"- {s}" for s in strengths or ["None stood out in this session."])
    add("")

    add("## Areas for monitoring\n")
    watch = [f"**{f.severity.upper()}** {esc(f.text)}" for d in g.dimensions.values()
             for f in d.findings if f.severity.flags]
    watch += [f"{TITLES[n]} graded {d.grade} ({d.assessment.lower()})." for n, d in
              g.dimensions.items() if d.score is not None and d.assessment in ("MODERATE", "POOR")]
    watch += [f"Not measured - {esc(x)}" for x in g.not_measured]
    out.extend(f"- {w}" for w in watch or ["Nothing needs watching beyond the usual."])
    add("")

    add("## Recommendations\n")
    recs: list[str] = []
    for sev in (Severity.CRITICAL, Severity.WARNING):
        for d in g.dimensions.values():
            for f in d.findings:
                if f.severity == sev and f.recommendation and esc(f.recommendation) not in recs:
                    recs.append(esc(f.recommendation))
    if recs:
        out.extend(f"{i}. {r}" for i, r in enumerate(recs, 1))
    else:
        add("No finding calls for a change: keep this session as the baseline to compare "
            "against (`swarmscope compare`).")
    add("")

    add("## Technical details\n")
    add("### System environment\n")
    env = g.environment
    for key, label in (("host_name", "Host"), ("os_type", "OS"), ("cpu_count", "CPU cores"),
                       ("memory_total", "Memory"), ("runtime_name", "Runtime"),
                       ("runtime_version", "Runtime version"), ("service_name", "Service")):
        if key in env:
            value = mib(float(env[key])) if key == "memory_total" else env[key]
            add(f"- {label}: {esc(value)}")
    add("\n### Swarm configuration\n")
    labels = {"duration_s": "duration (s)", "span_count": "spans",
              "metric_point_count": "metric points", "max_agents": "max agents",
              "graded_point_step_s": "graded at one point per series every (s)"}
    for key, value in g.configuration.items():
        shown = f"{value:.1f}" if isinstance(value, float) else value
        add(f"- {labels.get(key, key.replace('_', ' '))}: {esc(shown)}")
    add(f"- session start: {_when(g.start_ns)}; end: {_when(g.end_ns)}")
    add(f"\nGrading: control points from {esc(g.config_source)}; scores on a log-normal curve "
        "(see docs/grading.md).\n")

    out.extend(markdown_windows(g))  # --window: a grade per window
    add("## Conclusion\n")
    add(f"Overall grade: **{g.grade}** ({_score(g)}/100, {g.assessment}).\n")
    for name, d in g.dimensions.items():
        add(f"- {TITLES[name]}: {d.grade} ({_score(d)}, {d.assessment})")
    add("")
    return "\n".join(out)


def _lifetimes(g: SessionGrade) -> list[str]:
    """Long- and short-lived agents summed up, then one row per agent: who started it, when,
    for how long, how it ended, and the helpers it ran."""
    pop = g.population
    out = []
    if pop:
        split = f"{pop['split_seconds']:g} s"
        for key, label in (("long_lived", f"Long-lived agents (ran {split} or longer)"),
                           ("short_lived", f"Short-lived agents (under {split})")):
            out.append(f"- {label}: {_group_sentence(pop[key])}")
        if pop.get("helpers"):
            out.append(f"- Helper processes (grouped under the agent that ran them): "
                       f"{pop['helpers']}")
        out.append("")
    if not g.agents:
        return out + ["No agent was recorded.", ""]
    out += ["| Agent | Id | PID | Started by | Start | Lifetime | Ended | Helpers | Peak RSS "
            "| RSS growth | CPU (cores) | Peak FDs |", "|---" * 12 + "|"]
    out += [_agent_row(a) for a in g.agents]
    out += _inproc_table(g.agents)
    if g.session_helpers:
        out.append("\nHelpers the session ran itself: " + _helpers(g.session_helpers) + ".")
    return out + [""]


def _inproc_table(agents: list[AgentSummary]) -> list[str]:
    """In-process agents' own CPU and memory, each in the process it runs in."""
    rows = [a for a in agents if a.kind == "inproc"]
    if not rows:
        return []
    out = ["", "In-process agents (the agents of frameworks, in the process they run in): CPU "
           "of their own steps, memory their runs kept.", "",
           "| Agent | Process | Runs | CPU (s) | Retained |", "|---" * 5 + "|"]
    for a in rows:
        where = f"pid {_id(a.pid)}" + (f" ({esc(a.started_by)})" if a.started_by else "")
        out.append(f"| {esc(a.name)} | {where} | {_num(a.runs)} | {_num(a.cpu_seconds, 3)} "
                   f"| {retained_text(a)} |")
    return out


def retained_text(a: AgentSummary) -> str:
    """An in-process agent's retained memory in its unit: bytes, or blocks by default."""
    if a.retained is None:
        return "n/a"
    return mib(a.retained) if a.retained_unit == "By" else f"{a.retained:,.0f} blocks"


def _group_sentence(s: dict) -> str:
    if not s["count"]:
        return "none."
    text = f"{s['count']} ({esc(', '.join(s['names'][:8]))}" + (
        ", ..." if len(s["names"]) > 8 else "") + ")"
    if s["min_seconds"] is not None:
        text += f", {_secs(s['min_seconds'])}-{_secs(s['max_seconds'])} each"
    if s["running_at_end"]:
        text += f", {s['running_at_end']} still running at the end"
    if s["nonzero_exits"]:
        text += f", {s['nonzero_exits']} with a non-zero exit"
    return text + "."


def _agent_row(a: AgentSummary) -> str:
    return (f"| {esc(a.name)} | {esc(a.agent_id)} | {_id(a.pid)} "
            f"| {esc(a.started_by or 'session')} | {_secs(a.start_s)} | {_secs(a.lifetime_s)} "
            f"| {esc(a.ended)} "
            f"| {esc(_helpers(a.helpers)) or '-'} | {mib(a.peak_rss)} | {_growth(a.rss_growth)} "
            f"| {_num(a.cpu_cores, 2)} | {_num(a.peak_fds)} |")


def _helpers(groups: list[HelperGroup]) -> str:
    return ", ".join(f"{h.name} ×{h.count}" for h in groups)


def _secs(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _tree(nodes: list[TreeNode]) -> list[str]:
    """The process tree as an indented list; leftovers and hung workers in bold capitals."""
    if not nodes:
        return ["No process was recorded."]
    lines: list[str] = []
    stack = [(n, 0) for n in reversed(nodes)]
    while stack and len(lines) < MAX_TREE_ROWS:
        node, depth = stack.pop()
        lines.append("  " * depth + "- " + _tree_row(node))
        stack.extend((c, depth + 1) for c in reversed(node.children))
    if stack:
        lines.append(f"- ... {len(stack)} more branches (the JSON report has the whole tree)")
    return lines


def _tree_row(n: TreeNode) -> str:
    marks = "".join(f"**{m.upper()}** " for m in n.marks if m != "running")
    if n.count > 1:
        return (f"{marks}{esc(n.name)} ×{n.count}, {_secs(n.min_seconds)}-"
                f"{_secs(n.max_seconds)}, {esc(n.ended)}")
    role = " helper" if n.role == "helper" else ""
    start = f"started at {_secs(n.start_s)}, " if n.start_s is not None else ""
    return (f"{marks}{esc(n.name)} (pid {_id(n.pid)}{role}): {start}ran {_secs(n.seconds)}, "
            f"{esc(n.ended)}")


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):,.{digits}f}"


def _growth(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f} %"


def _id(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def point_step_note(g: SessionGrade) -> str | None:
    """The sentence saying a long session was graded coarser, or None when every point was."""
    step = g.configuration.get("graded_point_step_s")
    if step is None:
        return None
    return (f"Its metric points are more than the point budget (`[points] max_graded`), so "
            f"each series was graded at one point every {step:g} s, as a sampler with that "
            "interval would have recorded it (docs/grading.md, \"Long sessions\").")


def _summary_sentence(g: SessionGrade) -> str:
    flagged = [TITLES[n].lower() for n, d in g.dimensions.items() if d.flagged]
    leaks = sum(len(g.dimensions[n].leaks) for n in ("memory", "processes"))
    left = len(g.dimensions["cleanup"].orphans) + len(g.dimensions["cleanup"].zombies)
    parts = []
    if leaks:
        parts.append(f"{leaks} leaking series")
    if left:
        parts.append(f"{left} process{'es' if left != 1 else ''} left behind")
    if not flagged:
        return "No dimension needs attention: resources were managed and released cleanly."
    return ("Needs attention: " + ", ".join(flagged)
            + (f" ({'; '.join(parts)})" if parts else "") + ".")


__all__ = ["render_markdown", "SECTIONS", "TITLES", "esc", "MIB"]
