"""Reading the OTLP JSON Lines files the sdk wrote, for the watch tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmscope import conventions as c


def _value(value: dict[str, Any]) -> Any:
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "stringValue" in value:
        return value["stringValue"]
    return value


def _attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items or []}


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    file: str = ""

    @property
    def session_id(self) -> str | None:
        return self.resource.get(c.SESSION_ID)

    @property
    def pid(self) -> int | None:
        return self.attributes.get(c.PROCESS_PID)


def load_spans(data_dir: Path) -> list[Span]:
    """Every span in every traces file under ``data_dir``."""
    spans = []
    for path in sorted(data_dir.rglob("traces*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            for rs in json.loads(line).get("resourceSpans", []):
                resource = _attributes(rs.get("resource", {}).get("attributes"))
                for ss in rs.get("scopeSpans", []):
                    for raw in ss.get("spans", []):
                        spans.append(
                            Span(
                                name=raw["name"],
                                trace_id=raw["traceId"].lower(),
                                span_id=raw["spanId"].lower(),
                                parent_id=raw.get("parentSpanId", "").lower(),
                                attributes=_attributes(raw.get("attributes")),
                                resource=resource,
                                events=[
                                    (e["name"], _attributes(e.get("attributes")))
                                    for e in raw.get("events", [])
                                ],
                                file=path.name,
                            )
                        )
    return spans


def by_operation(spans: list[Span], operation: c.Operation) -> list[Span]:
    return [s for s in spans if s.attributes.get(c.GEN_AI_OPERATION_NAME) == operation.value]


def audit_events(spans: list[Span], event: str) -> list[dict[str, Any]]:
    return [
        attrs
        for s in spans
        if s.name == c.SPAN_CLEANUP_AUDIT
        for name, attrs in s.events
        if name == event
    ]
