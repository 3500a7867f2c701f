"""The OTLP JSON shape the analyzer reads, as an explicit DuckDB ``json_transform`` structure.

Type inference would shape the attribute-value struct from the keys it happened to see and
then fail on others, so every field is spelled out. Integers are read as (U)BIGINT whether
they arrive as JSON numbers or strings; enums (span kind, status code, severity, temporality)
as VARCHAR because proto JSON allows both the number and the enum name. Nested
``arrayValue`` / ``kvlistValue`` stay JSON and are converted by SQL macros.

A field absent from a line (OTLP omits zero values) becomes NULL; a field of the wrong type
also becomes NULL, and required fields are checked afterwards (see sql/ingest_*.sql).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

ANY_VALUE: dict[str, str] = {
    "stringValue": "VARCHAR",
    "boolValue": "BOOLEAN",
    "intValue": "BIGINT",
    "doubleValue": "DOUBLE",
    "bytesValue": "VARCHAR",
    "arrayValue": "JSON",
    "kvlistValue": "JSON",
}
KEY_VALUES: list[dict[str, Any]] = [{"key": "VARCHAR", "value": ANY_VALUE}]

RESOURCE = {"attributes": KEY_VALUES, "droppedAttributesCount": "UBIGINT"}
SCOPE = {"name": "VARCHAR", "version": "VARCHAR", "attributes": KEY_VALUES}

SPAN = {
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
    "parentSpanId": "VARCHAR",
    "traceState": "VARCHAR",
    "flags": "UBIGINT",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "startTimeUnixNano": "UBIGINT",
    "endTimeUnixNano": "UBIGINT",
    "attributes": KEY_VALUES,
    "droppedAttributesCount": "UBIGINT",
    "events": [
        {"timeUnixNano": "UBIGINT", "name": "VARCHAR", "attributes": KEY_VALUES},
    ],
    "links": [
        {
            "traceId": "VARCHAR",
            "spanId": "VARCHAR",
            "traceState": "VARCHAR",
            "attributes": KEY_VALUES,
            "flags": "UBIGINT",
        }
    ],
    "status": {"code": "VARCHAR", "message": "VARCHAR"},
}

BUCKETS = {"offset": "INTEGER", "bucketCounts": ["UBIGINT"]}

# One point shape for every metric type: each type uses its subset of the fields.
DATA_POINT = {
    "attributes": KEY_VALUES,
    "startTimeUnixNano": "UBIGINT",
    "timeUnixNano": "UBIGINT",
    "asDouble": "DOUBLE",
    "asInt": "BIGINT",
    "flags": "UBIGINT",
    "count": "UBIGINT",
    "sum": "DOUBLE",
    "min": "DOUBLE",
    "max": "DOUBLE",
    "bucketCounts": ["UBIGINT"],
    "explicitBounds": ["DOUBLE"],
    "scale": "INTEGER",
    "zeroCount": "UBIGINT",
    "zeroThreshold": "DOUBLE",
    "positive": BUCKETS,
    "negative": BUCKETS,
    "quantileValues": [{"quantile": "DOUBLE", "value": "DOUBLE"}],
}

METRIC = {
    "name": "VARCHAR",
    "description": "VARCHAR",
    "unit": "VARCHAR",
    "gauge": {"dataPoints": [DATA_POINT]},
    "sum": {
        "dataPoints": [DATA_POINT],
        "aggregationTemporality": "VARCHAR",
        "isMonotonic": "BOOLEAN",
    },
    "histogram": {"dataPoints": [DATA_POINT], "aggregationTemporality": "VARCHAR"},
    "exponentialHistogram": {"dataPoints": [DATA_POINT], "aggregationTemporality": "VARCHAR"},
    "summary": {"dataPoints": [DATA_POINT]},
}

LOG_RECORD = {
    "timeUnixNano": "UBIGINT",
    "observedTimeUnixNano": "UBIGINT",
    "severityNumber": "VARCHAR",
    "severityText": "VARCHAR",
    "body": ANY_VALUE,
    "attributes": KEY_VALUES,
    "droppedAttributesCount": "UBIGINT",
    "flags": "UBIGINT",
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
    "eventName": "VARCHAR",
}

DOCUMENT = {
    "resourceSpans": [
        {
            "resource": RESOURCE,
            "schemaUrl": "VARCHAR",
            "scopeSpans": [{"scope": SCOPE, "schemaUrl": "VARCHAR", "spans": [SPAN]}],
        }
    ],
    "resourceMetrics": [
        {
            "resource": RESOURCE,
            "schemaUrl": "VARCHAR",
            "scopeMetrics": [{"scope": SCOPE, "schemaUrl": "VARCHAR", "metrics": [METRIC]}],
        }
    ],
    "resourceLogs": [
        {
            "resource": RESOURCE,
            "schemaUrl": "VARCHAR",
            "scopeLogs": [{"scope": SCOPE, "schemaUrl": "VARCHAR", "logRecords": [LOG_RECORD]}],
        }
    ],
}

# One level of nesting inside arrayValue / kvlistValue: deeper values stay OTLP JSON.
ARRAY_VALUE = {"values": [ANY_VALUE]}
KVLIST_VALUE = {"values": KEY_VALUES}

SIGNAL_KEYS = ("resourceSpans", "resourceMetrics", "resourceLogs")


@cache
def structure_sql(shape: str = "document") -> str:
    """A structure as a SQL string literal for ``json_transform``."""
    value = {"document": DOCUMENT, "array": ARRAY_VALUE, "kvlist": KVLIST_VALUE}[shape]
    return "'" + json.dumps(value, separators=(",", ":")).replace("'", "''") + "'"


def _duck_type(shape: Any) -> str:
    if isinstance(shape, str):
        return shape
    if isinstance(shape, list):
        return _duck_type(shape[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{k}" {_duck_type(v)}' for k, v in shape.items()) + ")"


@cache
def columns_sql() -> str:
    """The document structure as a ``read_json(columns = ...)`` struct literal."""
    return "{" + ", ".join(
        f"'{key}': '{_duck_type([value[0]]).replace(chr(39), chr(39) * 2)}'"
        for key, value in DOCUMENT.items()
    ) + "}"
