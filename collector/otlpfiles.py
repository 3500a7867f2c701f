"""Small readers for OTLP JSON Lines files: enough to count what a pipeline delivered.

The analyzer does the real reading; these answer "did every span arrive?" for the
``collector`` commands, the pipeline benchmark and the end-to-end tests without DuckDB.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def read_documents(path: Path) -> Iterator[dict[str, Any]]:
    """Each JSON object of an OTLP JSON Lines file; a bad line names the file and line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object: {error.msg}") from None


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


def files(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every document of every existing file in ``paths``."""
    return [doc for path in paths if path.exists() for doc in read_documents(path)]


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
