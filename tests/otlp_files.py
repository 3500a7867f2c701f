"""Read the OTLP JSON Lines files that swarmscope (or the Collector) wrote back into plain
Python for assertions.

Deliberately independent of the analyzer: these tests check what the sdk, the watcher and the
Collector put on disk, so they parse the files themselves.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
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


def read_documents(path: Path) -> Iterator[dict[str, Any]]:
    """Each JSON object of an OTLP JSON Lines file, blank lines skipped; a bad line names the
    file and line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object: {error.msg}") from None


def files(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every document of every existing file in ``paths``."""
    return [doc for path in paths if path.exists() for doc in read_documents(path)]


def spans(documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        for resource_spans in doc.get("resourceSpans", []):
            for scope_spans in resource_spans.get("scopeSpans", []):
                yield from scope_spans.get("spans", [])


def metrics(documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        for resource_metrics in doc.get("resourceMetrics", []):
            for scope_metrics in resource_metrics.get("scopeMetrics", []):
                yield from scope_metrics.get("metrics", [])


def log_records(documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        for resource_logs in doc.get("resourceLogs", []):
            for scope_logs in resource_logs.get("scopeLogs", []):
                yield from scope_logs.get("logRecords", [])


def data_points(metric: dict[str, Any]) -> list[dict[str, Any]]:
    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
        if kind in metric:
            return metric[kind].get("dataPoints", [])
    return []


def span_ids(documents: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(trace id, span id) pairs, lower-case hex: ids may arrive in either case."""
    return {(s["traceId"].lower(), s["spanId"].lower()) for s in spans(documents)}


def span_name_counts(documents: Iterable[dict[str, Any]]) -> Counter[str]:
    return Counter(s["name"] for s in spans(documents))


def metric_point_counts(documents: Iterable[dict[str, Any]]) -> Counter[str]:
    """Data points per metric name (a series may be split across several exports)."""
    counts: Counter[str] = Counter()
    for metric in metrics(documents):
        counts[metric["name"]] += len(data_points(metric))
    return counts


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


def span_events(data_dir: Path, event: str) -> list[dict[str, Any]]:
    """Attributes of every ``event`` on any span in the traces files under ``data_dir``."""
    return [attrs for s in load_spans(data_dir) for name, attrs in s.events if name == event]


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
    documents = [d for path in sdk_files(data_dir, c.SIGNAL_METRICS) for d in read_lines(path)]
    return {m["name"] for m in metrics(documents)}


def metric_points(path: Path, name: str) -> list[dict[str, Any]]:
    """Attributes of every data point of metric ``name`` in one metrics file."""
    return [
        attributes(point.get("attributes"))
        for metric in metrics(read_lines(path))
        if metric["name"] == name
        for point in data_points(metric)
    ]
