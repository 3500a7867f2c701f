"""The graded session as one self-contained, offline HTML page.

Tables and findings are rendered here with every telemetry string HTML-escaped. Charts
(memory, CPU, FDs, process count, with spawn/terminate markers) are drawn in the browser by
a small inline script into SVG from a JSON block; the script only ever sets ``textContent``,
never markup, and the JSON is escaped so no value can close its ``<script>`` element.
No external resource is referenced: the file works from disk with no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape

from .report_md import TITLES, point_step_note, retained_text
from .report_windows import html_windows
from .results import SessionGrade, TreeNode
from .units import mib

LIFETIME_ROWS = 400  # rows of the lifetime chart at most (repeated helpers are one row each)
_MARK_COLOURS = {"orphan": "#b3261e", "zombie": "#b3261e", "hung": "#c77700"}

CHARTS = [
    ("memory", "Session memory (MiB)", [("memory_mib", "session RSS")]),
    ("cpu", "CPU", [("cpu_cores", "session CPU (cores)"), ("load_per_core", "load / core")]),
    ("fds", "Open file descriptors", [("fds", "session FDs")]),
    ("processes", "Processes", [("processes", "session processes")]),
]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;
color:#1d2430;padding:0 1rem}
h1{font-size:1.5rem}h2{border-bottom:1px solid #d8dde5;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d8dde5;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f5f8}
.grade{font-weight:700;font-size:1.1rem}.critical{color:#b3261e;font-weight:600}
.warning{color:#9a5b00;font-weight:600}.good{color:#1b6e3a}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1rem}
figure{margin:0;border:1px solid #d8dde5;border-radius:6px;padding:.5rem}
figcaption{font-weight:600;margin-bottom:.3rem}svg{width:100%;height:auto;display:block}
.legend span{margin-right:1rem;font-size:.85rem}
svg.lifetimes{max-width:60rem}
"""

# Draws every chart from the JSON block; only textContent and attributes are ever set.
_JS = r"""
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("series").textContent);
  var colors = ["#2458c6", "#c65a24", "#2a8a4a"];
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, String(attrs[k])); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function draw(svg) {
    var keys = svg.getAttribute("data-series").split(",");
    var W = 600, H = 220, L = 50, R = 10, T = 10, B = 30;
    var t = data.t || [];
    var tmax = Math.max.apply(null, t.concat([1]));
    var ymax = 0, drawn = 0;
    keys.forEach(function (k) {
      (data[k] || []).forEach(function (v) { if (v !== null && v > ymax) { ymax = v; } });
    });
    if (ymax <= 0) { ymax = 1; }
    function x(v) { return L + (W - L - R) * v / tmax; }
    function y(v) { return H - B - (H - T - B) * v / ymax; }
    el("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "none",
                stroke: "#c9ced6"}, svg);
    [0, 0.5, 1].forEach(function (f) {
      var label = el("text", {x: L - 4, y: y(ymax * f) + 4, "text-anchor": "end",
                              "font-size": 10}, svg);
      label.textContent = (ymax * f).toPrecision(3);
    });
    var xl = el("text", {x: W - R, y: H - 8, "text-anchor": "end", "font-size": 10}, svg);
    xl.textContent = tmax.toFixed(1) + " s";
    (data.markers || []).forEach(function (m) {
      var line = el("line", {x1: x(m.t), x2: x(m.t), y1: T, y2: H - B,
                             stroke: m.kind === "spawn" ? "#2a8a4a" : "#b3261e",
                             "stroke-dasharray": "3,3", "class": "marker " + m.kind}, svg);
      var title = el("title", {}, line);
      title.textContent = m.kind + " " + m.agent + " at " + m.t + " s";
    });
    keys.forEach(function (k, i) {
      var d = "", pen = "M";
      (data[k] || []).forEach(function (v, j) {
        if (v === null) { pen = "M"; return; }
        d += pen + x(t[j]).toFixed(1) + "," + y(v).toFixed(1) + " ";
        pen = "L";
      });
      if (d) {
        el("path", {d: d, fill: "none", stroke: colors[i % colors.length],
                    "stroke-width": 1.5, "class": "series", "data-key": k}, svg);
        drawn += 1;
      }
    });
    svg.setAttribute("data-rendered", drawn ? "true" : "empty");
  }
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), draw);
  document.body.setAttribute("data-charts", "rendered");
})();
"""


def _json_for_script(value: object) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' survive literally."""
    text = json.dumps(value, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(opening: str, header: tuple[str, ...],
           rows: Iterable[tuple[str, ...]]) -> list[str]:
    """An HTML table: ``opening`` tag, the header row, a row per tuple of escaped cells."""
    return [opening + "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>",
            *("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows),
            "</table>"]


def _score(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1f}"


def render_html(g: SessionGrade) -> str:
    e = escape
    parts: list[str] = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>swarmscope report: {e(g.session)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Swarm resource report: session <code>{e(g.session)}</code></h1>",
        f"<p class=\"grade\">Overall grade {e(g.grade)} ({_score(g.score)}/100, "
        f"{e(g.assessment)})</p>",
        "<h2>Executive summary</h2><table><tr><th>Dimension</th><th>Grade</th><th>Score</th>"
        "<th>Assessment</th></tr>",
    ]
    for name, d in g.dimensions.items():
        parts.append(f"<tr><td>{TITLES[name]}</td><td>{e(d.grade)}</td><td>{_score(d.score)}"
                     f"</td><td>{e(d.assessment)}</td></tr>")
    parts.append("</table>")
    if (note := point_step_note(g)) is not None:
        parts.append(f"<p>{e(note.replace('`', ''))}</p>")

    parts.append("<h2>Timeline</h2><div class=\"charts\">")
    for key, title, series in CHARTS:
        legend = "".join(f"<span style=\"color:{c}\">&#9632; {e(label)}</span>" for (_, label), c
                         in zip(series, ("#2458c6", "#c65a24", "#2a8a4a"), strict=False))
        keys = ",".join(k for k, _ in series)
        parts.append(
            f"<figure><figcaption>{e(title)}</figcaption>"
            f"<svg class=\"chart\" id=\"chart-{key}\" data-series=\"{keys}\""
            f" viewBox=\"0 0 600 220\" role=\"img\" aria-label=\"{e(title)}\"></svg>"
            f"<div class=\"legend\">{legend}<span style=\"color:#2a8a4a\">&#8942; spawn</span>"
            f"<span style=\"color:#b3261e\">&#8942; terminate</span></div></figure>")
    parts.append("</div><noscript>Charts need JavaScript; the tables below hold the same "
                 "figures.</noscript>")

    parts.extend(html_windows(g))  # --window: a grade per window
    parts.append("<h2>Agents and lifetimes</h2>")
    parts.extend(_lifetime_chart(g))
    parts.append("<h2>Key findings</h2>")
    for name, d in g.dimensions.items():
        parts.append(f"<h3>{TITLES[name]}: {e(d.assessment)} ({e(d.grade)}, "
                     f"{_score(d.score)})</h3><ul>")
        for f in d.findings:
            parts.append(f"<li class=\"{e(f.severity)}\">{e(f.text)}</li>")
        parts.append("</ul>")
        if d.figures:
            parts += _table("<table>", ("Figure", "Value", "Score", "Weight"), (
                (e(fig.label), e(fig.display), f"{fig.score:.1f}", f"{fig.weight:g}")
                for fig in d.figures))
        if d.hung:
            parts += _table("<table class=\"hung\">", ("Hung PID", "Agent", "Waiting on",
                                                        "Idle (s)"), (
                (str(h.pid), e(h.agent_name or h.agent or ""), e(h.waiting_on or ""),
                 _n(h.idle_seconds)) for h in d.hung))
        if d.not_measured:
            parts.append("<p>Not measured: " + e("; ".join(d.not_measured)) + ".</p>")

    parts.append("<h2>Metrics timeline</h2><table><tr><th>Phase</th><th>System memory</th>"
                 "<th>Session memory</th><th>Session FDs</th><th>Processes</th>"
                 "<th>Key event</th></tr>")
    for r in g.phases:
        parts.append(
            f"<tr><td>{e(r.phase)}</td><td>{mib(r.system_memory)}</td>"
            f"<td>{mib(r.session_memory)}</td><td>{_n(r.session_fds)}</td>"
            f"<td>{_n(r.process_count)}</td><td>{e(r.event)}</td></tr>")
    parts.append("</table>")
    parts.extend(f"<p class=\"note\">{e(note)}</p>" for note in g.phase_notes)

    recs = [f.recommendation for d in g.dimensions.values() for f in d.findings
            if f.severity.flags and f.recommendation]
    parts.append("<h2>Recommendations</h2>")
    if recs:
        parts.append("<ol>" + "".join(f"<li>{e(r)}</li>" for r in dict.fromkeys(recs))
                     + "</ol>")
    else:
        parts.append("<p>No finding calls for a change.</p>")

    parts.append("<h2>Agents</h2><table><tr><th>Agent</th><th>Id</th><th>PID</th>"
                 "<th>Started by</th><th>Start (s)</th><th>Lifetime (s)</th><th>Ended</th>"
                 "<th>Helpers</th><th>Peak RSS</th><th>CPU (cores)</th><th>CPU (s)</th>"
                 "<th>Retained</th></tr>")
    for a in g.agents:
        helpers = ", ".join(f"{h.name} ×{h.count}" for h in a.helpers)
        parts.append(
            f"<tr><td>{e(a.name)}</td><td>{e(a.agent_id)}</td><td>{_n(a.pid, sep=False)}</td>"
            f"<td>{e(a.started_by or 'session')}</td><td>{_n(a.start_s, 2)}</td>"
            f"<td>{_n(a.lifetime_s, 2)}</td><td>{e(a.ended)}</td><td>{e(helpers)}</td>"
            f"<td>{mib(a.peak_rss)}</td><td>{_n(a.cpu_cores, 2)}</td>"
            f"<td>{_n(a.cpu_seconds, 3)}</td>"
            f"<td>{e(retained_text(a)) if a.kind == 'inproc' else ''}</td></tr>")
    parts.append("</table><h2>Technical details</h2><ul>")
    for k, v in {**g.environment, **g.configuration}.items():
        parts.append(f"<li>{e(k.replace('_', ' '))}: {e(str(v))}</li>")
    parts.append("</ul>")
    parts.append(f"<script type=\"application/json\" id=\"series\">{_json_for_script(g.series)}"
                 f"</script><script>{_JS}</script></body></html>\n")
    return "\n".join(parts)


def _rows(nodes: list[TreeNode]) -> list[tuple[int, TreeNode]]:
    """The tree flattened depth-first as (depth, node), at most LIFETIME_ROWS rows."""
    out: list[tuple[int, TreeNode]] = []
    stack = [(0, n) for n in reversed(nodes)]
    while stack and len(out) < LIFETIME_ROWS:
        depth, node = stack.pop()
        out.append((depth, node))
        stack.extend((depth + 1, c) for c in reversed(node.children))
    return out


def _lifetime_chart(g: SessionGrade) -> list[str]:
    """Who spawned whom and when, as bars on the session's time axis (drawn here, no script;
    every name is escaped text inside <text> and <title>)."""
    rows = _rows(g.tree)
    if not rows:
        return ["<p>No process was recorded.</p>"]
    total = max([(n.start_s or 0) + (n.seconds or 0) for _, n in rows]
                + [((g.end_ns or 0) - (g.start_ns or 0)) / 1e9, 1e-3])
    left, width, step = 320, 600, 18
    height = step * len(rows) + 24
    out = [f"<svg class=\"lifetimes\" id=\"lifetimes\" viewBox=\"0 0 {left + width + 10} "
           f"{height}\" role=\"img\" aria-label=\"process lifetimes\">"]
    for i, (depth, n) in enumerate(rows):
        y = i * step + 4
        x0 = left + width * (n.start_s or 0) / total
        w = max(width * (n.seconds or 0) / total, 1.5)
        colour = next((_MARK_COLOURS[m] for m in n.marks if m in _MARK_COLOURS),
                      "#8c96a3" if n.role == "helper" else "#2458c6")
        label = n.name + (f" ×{n.count}" if n.count > 1 else f" ({n.pid})")
        tip = f"{label}: {n.ended}" + "".join(f"; {m}" for m in n.marks)
        klass = " ".join(["bar"] + n.marks)
        out.append(f"<text x=\"{4 + depth * 12}\" y=\"{y + 11}\" font-size=\"11\">"
                   f"{escape(label[:48])}</text>"
                   f"<rect class=\"{klass}\" x=\"{x0:.1f}\" y=\"{y}\" width=\"{w:.1f}\" "
                   f"height=\"12\" fill=\"{colour}\"><title>{escape(tip)}</title></rect>")
    out.append(f"<text x=\"{left + width}\" y=\"{height - 4}\" font-size=\"10\" "
               f"text-anchor=\"end\">{total:.1f} s</text></svg>")
    out.append("<div class=\"legend\"><span style=\"color:#2458c6\">&#9632; agent</span>"
               "<span style=\"color:#8c96a3\">&#9632; helper</span>"
               "<span style=\"color:#b3261e\">&#9632; left behind</span>"
               "<span style=\"color:#c77700\">&#9632; hung</span></div>")
    return out


def _n(value: float | int | None, digits: int = 0, sep: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):,.{digits}f}" if sep else f"{float(value):.{digits}f}"
