"""The grade per window over time (``report --window``) in each report format: a table in
Markdown, an inline SVG chart plus a table in HTML (drawn here, so it needs no script and no
network), a list in JSON. Nothing is added when the report has no windows."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from .report_md import TITLES, esc
from .results import SessionGrade
from .window import WindowGrade, window_rows

_W, _H, _L, _B, _T = 600, 200, 34, 24, 8  # chart size and margins (left, bottom, top)


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _dims(w: WindowGrade) -> list[str]:
    return [f"{grade} ({_score(score)})" for grade, score in w.dimensions.values()]


def markdown_windows(g: SessionGrade) -> list[str]:
    """``## Grades over time``: one row per window (empty list without windows)."""
    rows = window_rows(g)
    if not rows:
        return []
    names = list(rows[0].dimensions)
    out = ["## Grades over time\n",
           "| Window (UTC) | Overall | " + " | ".join(TITLES.get(n, n) for n in names)
           + " | Leaks |",
           "|---|---|" + "---|" * len(names) + "---|"]
    for w in rows:
        leaks = ", ".join(esc(x) for x in w.leaks) or "none"
        out.append(f"| {_when(w.start_ns)} – {_when(w.end_ns)[11:]} | {w.grade} "
                   f"({_score(w.score)}) | " + " | ".join(_dims(w)) + f" | {leaks} |")
    out.append("")
    return out


def json_windows(g: SessionGrade) -> list[dict[str, Any]]:
    """``windows[]``: start/end (ns), overall grade and score, per-dimension, leaks."""
    return [{"start_ns": w.start_ns, "end_ns": w.end_ns, "grade": w.grade, "score": w.score,
             "assessment": w.assessment, "samples": w.samples, "leaks": w.leaks,
             "dimensions": {n: {"grade": gr, "score": sc} for n, (gr, sc) in w.dimensions.items()}}
            for w in window_rows(g)]


def html_windows(g: SessionGrade) -> list[str]:
    """A line chart of the overall score per window (0-100), then the table."""
    rows = window_rows(g)
    if not rows:
        return []
    t0, t1 = rows[0].start_ns, rows[-1].end_ns
    span = max(1, t1 - t0)

    def x(ns: int) -> float:
        return _L + (_W - _L - 8) * (ns - t0) / span

    def y(score: float) -> float:
        return _T + (_H - _T - _B) * (1 - score / 100)

    mid = [((w.start_ns + w.end_ns) // 2, w) for w in rows]
    points = " ".join(f"{x(t):.1f},{y(w.score):.1f}" for t, w in mid if w.score is not None)
    out = ["<h2>Grades over time</h2><figure><figcaption>Overall score per window</figcaption>",
           f"<svg class=\"windows\" id=\"windows\" viewBox=\"0 0 {_W} {_H}\" role=\"img\" "
           "aria-label=\"Overall score per window\">"]
    for level in (0, 50, 90, 100):
        out.append(f"<line x1=\"{_L}\" x2=\"{_W - 8}\" y1=\"{y(level):.1f}\" "
                   f"y2=\"{y(level):.1f}\" stroke=\"#c9ced6\"/><text x=\"{_L - 4}\" "
                   f"y=\"{y(level) + 3:.1f}\" font-size=\"10\" text-anchor=\"end\">{level}</text>")
    out.append(f"<polyline points=\"{points}\" fill=\"none\" stroke=\"#2458c6\" "
               "stroke-width=\"1.5\"/>")
    for t, w in mid:
        if w.score is not None:
            colour = "#b3261e" if w.leaks else "#2458c6"
            out.append(f"<circle cx=\"{x(t):.1f}\" cy=\"{y(w.score):.1f}\" r=\"2.5\" "
                       f"fill=\"{colour}\"><title>{escape(_when(w.start_ns))}: {escape(w.grade)}"
                       f" ({_score(w.score)})</title></circle>")
    out.append(f"<text x=\"{_L}\" y=\"{_H - 6}\" font-size=\"10\">{escape(_when(t0))}</text>"
               f"<text x=\"{_W - 8}\" y=\"{_H - 6}\" font-size=\"10\" text-anchor=\"end\">"
               f"{escape(_when(t1))} UTC</text></svg></figure>")
    names = list(rows[0].dimensions)
    out.append("<table class=\"windows\"><tr><th>Window (UTC)</th><th>Overall</th>"
               + "".join(f"<th>{escape(TITLES.get(n, n))}</th>" for n in names)
               + "<th>Leaks</th></tr>")
    for w in rows:
        out.append(f"<tr><td>{escape(_when(w.start_ns))}</td><td>{escape(w.grade)} "
                   f"({_score(w.score)})</td>" + "".join(f"<td>{escape(d)}</td>" for d in _dims(w))
                   + f"<td>{escape(', '.join(w.leaks) or 'none')}</td></tr>")
    out.append("</table>")
    return out
