"""Read the sdk's OTLP JSON Lines files back into plain Python for assertions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPAN_KIND_INTERNAL = 1  # OTLP enum values
STATUS_ERROR = 2


def value_of(any_value: dict[str, Any]) -> Any:
    """One OTLP AnyValue as a Python value (ints arrive as strings)."""
    (kind, value), = any_value.items()
    if kind == "intValue":
        return int(value)
    if kind == "arrayValue":
        return [value_of(v) for v in value.get("values", [])]
    return value


def attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: value_of(item["value"]) for item in items or []}


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


def sdk_files(data_dir: Path, signal: str) -> list[Path]:
    return sorted((data_dir / "sdk").glob(f"{signal}.*.jsonl"))


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def spans(data_dir: Path) -> list[Span]:
    found = []
    for path in sdk_files(data_dir, "traces"):
        for document in read_lines(path):
            for resource_spans in document["resourceSpans"]:
                resource = attributes(resource_spans["resource"].get("attributes"))
                for scope_spans in resource_spans["scopeSpans"]:
                    for raw in scope_spans["spans"]:
                        found.append(
                            Span(
                                name=raw["name"],
                                trace_id=raw["traceId"],
                                span_id=raw["spanId"],
                                parent_id=raw.get("parentSpanId", ""),
                                kind=raw.get("kind", 0),
                                attrs=attributes(raw.get("attributes")),
                                resource=resource,
                                status_code=raw.get("status", {}).get("code", 0),
                                events=[
                                    (e["name"], attributes(e.get("attributes")))
                                    for e in raw.get("events", [])
                                ],
                                file=path,
                            )
                        )
    return found


def by_name(found: list[Span], name: str) -> list[Span]:
    return [s for s in found if s.name == name]


def one(found: list[Span], name: str) -> Span:
    matches = by_name(found, name)
    assert len(matches) == 1, f"expected one span {name!r}, got {[s.name for s in found]}"
    return matches[0]


def metric_names(data_dir: Path) -> set[str]:
    names = set()
    for path in sdk_files(data_dir, "metrics"):
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
