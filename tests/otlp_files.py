"""Read the OTLP JSON Lines files that swarmscope wrote back into plain Python for assertions.

Deliberately independent of the analyzer: these tests check what the sdk and the watcher put
on disk, so they parse the files themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmscope import conventions as c

SPAN_KIND_INTERNAL = 1  # OTLP enum values
STATUS_ERROR = 2


def value_of(any_value: dict[str, Any]) -> Any:
    """One OTLP AnyValue as a Python value (64-bit ints arrive as strings)."""
    if not any_value:
        return None
    ((kind, value),) = any_value.items()
    if kind == "intValue":
        return int(value)
    if kind == "doubleValue":
        return float(value)
    if kind == "arrayValue":
        return [value_of(v) for v in value.get("values", [])]
    return value


def attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: value_of(item.get("value", {})) for item in items or []}


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    attrs: dict[str, Any]
    resource: dict[str, Any]
    status_code: int
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    file: Path | None = None

    @property
    def session_id(self) -> str | None:
        return self.resource.get(c.SESSION_ID)

    @property
    def pid(self) -> int | None:
        return self.attrs.get(c.PROCESS_PID)


def sdk_files(data_dir: Path, signal: str) -> list[Path]:
    """The files the sdk's embedded exporter wrote for one signal."""
    return sorted((data_dir / "sdk").glob(f"{signal}.*.jsonl"))


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line as JSON; a blank or broken line fails, since the writers never emit one."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def _span(raw: dict[str, Any], resource: dict[str, Any], path: Path) -> Span:
    return Span(
        name=raw["name"],
        trace_id=raw["traceId"].lower(),
        span_id=raw["spanId"].lower(),
        parent_id=raw.get("parentSpanId", "").lower(),
        kind=raw.get("kind", 0),
        attrs=attributes(raw.get("attributes")),
        resource=resource,
        status_code=raw.get("status", {}).get("code", 0),
        events=[(e["name"], attributes(e.get("attributes"))) for e in raw.get("events", [])],
        file=path,
    )


def load_spans(data_dir: Path) -> list[Span]:
    """Every span in every traces file under ``data_dir``."""
    found = []
    for path in sorted(data_dir.rglob("traces*.jsonl")):
        for document in read_lines(path):
            for resource_spans in document.get("resourceSpans", []):
                resource = attributes(resource_spans.get("resource", {}).get("attributes"))
                for scope_spans in resource_spans.get("scopeSpans", []):
                    found += [_span(raw, resource, path) for raw in scope_spans.get("spans", [])]
    return found


def by_name(found: list[Span], name: str) -> list[Span]:
    return [s for s in found if s.name == name]


def one(found: list[Span], name: str) -> Span:
    matches = by_name(found, name)
    assert len(matches) == 1, f"expected one span {name!r}, got {[s.name for s in found]}"
    return matches[0]


def by_operation(found: list[Span], operation: c.Operation) -> list[Span]:
    return [s for s in found if s.attrs.get(c.GEN_AI_OPERATION_NAME) == operation.value]


def audit_events(found: list[Span], event: str) -> list[dict[str, Any]]:
    """Attributes of every ``event`` (orphan / zombie) on the cleanup audit spans."""
    return [
        attrs
        for s in found
        if s.name == c.SPAN_CLEANUP_AUDIT
        for name, attrs in s.events
        if name == event
    ]


def metric_names(data_dir: Path) -> set[str]:
    names = set()
    for path in sdk_files(data_dir, c.SIGNAL_METRICS):
        for document in read_lines(path):
            for rm in document["resourceMetrics"]:
                for sm in rm["scopeMetrics"]:
                    names.update(m["name"] for m in sm["metrics"])
    return names


def metric_points(path: Path, name: str) -> list[dict[str, Any]]:
    """Attributes of every data point of metric ``name`` in one metrics file."""
    points = []
    for document in read_lines(path):
        for rm in document["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] != name:
                        continue
                    data = next(v for k, v in metric.items() if isinstance(v, dict))
                    points += [attributes(p.get("attributes")) for p in data["dataPoints"]]
    return points
