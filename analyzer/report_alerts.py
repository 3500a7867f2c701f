"""What a session alerted on while it ran (docs/live.md): loaded from its ``swarm_alert`` span
events (``sql/report_alerts.sql``) and shown as the report's "Alerts" section.

The alerts are the monitor's and the watcher's judgement at the time, not the report's: the
report grades the whole session afterwards, and its verdicts stand on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import db


@dataclass(frozen=True)
class AlertRow:
    ts_ns: int | None
    condition: str
    message: str
    value: float | None
    threshold: float | None
    unit: str | None
    pid: int | None
    agent_id: str | None
    agent_name: str | None


def load(con: Any, session_ids: list[str]) -> dict[str, list[AlertRow]]:
    """Alerts per session id, in the order they were raised."""
    found: dict[str, list[AlertRow]] = {s: [] for s in session_ids}
    cursor = con.execute(db.load_sql("report_alerts"), {"sessions": list(session_ids)})
    names = [d[0] for d in cursor.description]
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        session = row.pop("session_id")
        found.setdefault(session, []).append(AlertRow(**row))
    return found


def attach(alerts: dict[str, list[AlertRow]], grades: list[Any]) -> list[Any]:
    """Give each graded session its alerts; returns ``grades``."""
    for g in grades:
        g.alerts = list(alerts.get(g.session, []))
    return grades


def markdown_alerts(g: Any) -> list[str]:
    """The "Alerts" section: one row per alert; nothing when the session raised none."""
    from .report_md import esc

    rows: list[AlertRow] = getattr(g, "alerts", [])
    if not rows:
        return []
    out = ["## Alerts while it ran\n",
           "| time (UTC) | condition | agent | pid | value | threshold | what |",
           "|---|---|---|---:|---:|---:|---|"]  # fmt: skip
    for a in rows:
        when = (datetime.fromtimestamp(a.ts_ns / 1e9, UTC).strftime("%H:%M:%S")
                if a.ts_ns else "?")  # fmt: skip
        out.append(f"| {when} | {esc(a.condition)} | {esc(a.agent_name or '-')} | "
                   f"{a.pid if a.pid is not None else '-'} | {_figure(a.value, a.unit)} | "
                   f"{_figure(a.threshold, a.unit)} | {esc(a.message)} |")  # fmt: skip
    return out + [""]


def _figure(value: float | None, unit: str | None) -> str:
    if value is None:
        return "-"
    if unit == "1":
        return f"{value * 100:.1f} %"
    text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text
