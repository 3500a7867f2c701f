"""The Arrow reader: a group of clean OTLP JSON Lines parsed by pyarrow and flattened in Arrow.

DuckDB's read_json builds each line as one nested value, and unnesting those costs more
the more a vector holds (docs/performance.md, "Analyzer ingest"). pyarrow parses the same
lines into columns, where flattening resource -> scope -> record lists is arithmetic on
offsets. The records then reach the model's statements (ingest_spans.sql, ...) with the
fields and types the SQL reader gives them (ingest_items_arrow.sql, ingest_values_arrow.sql),
so both store the same rows (tests/analyzer/test_ingest_arrow.py).

This reader takes a group only when it can store it exactly as the SQL reader would, and
when the SQL reader would report nothing in it: OTLP JSON as the OpenTelemetry SDKs, the
Collector and the official examples write it (64-bit integers all as strings or all as
numbers, enums as numbers), no field outside ingest_shape.sql (exemplars and metric
metadata are read and not used), attribute values at most one array deep and no kvlist, no
key twice in an attribute list, lines of at most 1 MiB, and no record the checks would leave
out or store with a warning (ingest_arrow_checks.sql). Anything else, it leaves to the SQL
reader, which reports it by file and line.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from . import db

LONGEST_LINE = 1024 * 1024  # longer lines may hold values the SQL reader cuts (otlp_string)
# The SQL reader cuts an arrayValue whose JSON, as DuckDB holds it, is over 1 MiB
# (otlp_too_big); that text can be longer than the line's (numbers written out in full).
# Arrays are refused when this bound on it could cross 1 MiB; none are cut here.
_JSON_GROWTH_PER_ELEMENT = 128
SIGNALS = (("traces", "resourceSpans", "scopeSpans", "spans"),
           ("metrics", "resourceMetrics", "scopeMetrics", "metrics"),
           ("logs", "resourceLogs", "scopeLogs", "logRecords"))
METRIC_TYPES = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


class Refused(Exception):
    """The group holds something this reader does not store as the SQL reader would."""


# --- the OTLP shape as pyarrow reads it ------------------------------------------------------
# As ingest_shape.sql, with the JSON types OTLP's JSON encoding gives, which pyarrow needs
# fixed: 64-bit integers and timestamps as strings (as the SDKs and the Collector write
# them) or as numbers (as the official examples do), enums and 32-bit integers as numbers.
# _Retype then gives them ingest_shape.sql's types. A group that mixes the two ways, or
# writes an enum by name, is refused (pyarrow says the column changed type) and read by the
# SQL reader, which takes every way. Exemplars and metric metadata are read and not used,
# as by the SQL reader.

_S, _F, _B = pa.string(), pa.float64(), pa.bool_()
_U64, _I32 = pa.uint64(), pa.int32()
_ENUM = pa.int64()  # an enum as its number, turned into text by _retype as the SQL reader has it


@dataclass(frozen=True)
class _Ints:
    """How a group writes its 64-bit integers: the types pyarrow reads them as."""

    int64: pa.DataType
    uint64: pa.DataType
    time: pa.DataType  # fixed64 nanoseconds


_AS_TEXT = _Ints(_S, _S, _S)
_AS_NUMBERS = _Ints(pa.int64(), _U64, _U64)


def _any_value(i: _Ints, nested: bool) -> pa.DataType:
    scalar = [("stringValue", _S), ("boolValue", _B), ("intValue", i.int64),
              ("doubleValue", _F), ("bytesValue", _S)]
    if not nested:
        return pa.struct(scalar)
    array = pa.struct([("values", pa.list_(_any_value(i, False)))])
    return pa.struct(scalar + [("arrayValue", array)])


def _key_values(i: _Ints) -> pa.DataType:
    return pa.list_(pa.struct([("key", _S), ("value", _any_value(i, True))]))


def _buckets(i: _Ints) -> pa.DataType:
    return pa.struct([("offset", _I32), ("bucketCounts", pa.list_(i.uint64))])


def _data_point(i: _Ints) -> pa.DataType:
    exemplar = pa.struct([("filteredAttributes", _key_values(i)), ("timeUnixNano", i.time),
                          ("asDouble", _F), ("asInt", i.int64), ("spanId", _S),
                          ("traceId", _S)])
    return pa.struct([
        ("attributes", _key_values(i)), ("startTimeUnixNano", i.time),
        ("timeUnixNano", i.time), ("asDouble", _F), ("asInt", i.int64), ("flags", _U64),
        ("count", i.uint64), ("sum", _F), ("min", _F), ("max", _F),
        ("bucketCounts", pa.list_(i.uint64)), ("explicitBounds", pa.list_(_F)),
        ("scale", _I32), ("zeroCount", i.uint64), ("zeroThreshold", _F),
        ("positive", _buckets(i)), ("negative", _buckets(i)),
        ("quantileValues", pa.list_(pa.struct([("quantile", _F), ("value", _F)]))),
        ("exemplars", pa.list_(exemplar)),
    ])


def _metric(i: _Ints) -> pa.DataType:
    points = ("dataPoints", pa.list_(_data_point(i)))
    temporality = ("aggregationTemporality", _ENUM)
    return pa.struct([
        ("name", _S), ("description", _S), ("unit", _S), ("metadata", _key_values(i)),
        ("gauge", pa.struct([points])),
        ("sum", pa.struct([points, temporality, ("isMonotonic", _B)])),
        ("histogram", pa.struct([points, temporality])),
        ("exponentialHistogram", pa.struct([points, temporality])),
        ("summary", pa.struct([points])),
    ])


def _span(i: _Ints) -> pa.DataType:
    dropped = ("droppedAttributesCount", _U64)
    return pa.struct([
        ("traceId", _S), ("spanId", _S), ("parentSpanId", _S), ("traceState", _S),
        ("flags", _U64), ("name", _S), ("kind", _ENUM), ("startTimeUnixNano", i.time),
        ("endTimeUnixNano", i.time), ("attributes", _key_values(i)), dropped,
        ("events", pa.list_(pa.struct([("timeUnixNano", i.time), ("name", _S),
                                       ("attributes", _key_values(i)), dropped]))),
        ("droppedEventsCount", _U64),
        ("links", pa.list_(pa.struct([("traceId", _S), ("spanId", _S), ("traceState", _S),
                                      ("attributes", _key_values(i)), dropped,
                                      ("flags", _U64)]))),
        ("droppedLinksCount", _U64),
        ("status", pa.struct([("code", _ENUM), ("message", _S)])),
    ])


def _log_record(i: _Ints) -> pa.DataType:
    return pa.struct([
        ("timeUnixNano", i.time), ("observedTimeUnixNano", i.time), ("severityNumber", _ENUM),
        ("severityText", _S), ("body", _any_value(i, True)), ("attributes", _key_values(i)),
        ("droppedAttributesCount", _U64), ("flags", _U64), ("traceId", _S), ("spanId", _S),
        ("eventName", _S),
    ])


def _signal(i: _Ints, scopes: str, items: str, record: pa.DataType) -> pa.DataType:
    dropped = ("droppedAttributesCount", _U64)
    resource = pa.struct([("attributes", _key_values(i)), dropped])
    scope = pa.struct([("name", _S), ("version", _S), ("attributes", _key_values(i)), dropped])
    return pa.list_(pa.struct([
        ("resource", resource), ("schemaUrl", _S),
        (scopes, pa.list_(pa.struct([("scope", scope), ("schemaUrl", _S),
                                     (items, pa.list_(record))]))),
    ]))


def schema(i: _Ints) -> pa.Schema:
    """The OTLP shape with 64-bit integers written as ``i`` says."""
    return pa.schema([
        ("resourceSpans", _signal(i, "scopeSpans", "spans", _span(i))),
        ("resourceMetrics", _signal(i, "scopeMetrics", "metrics", _metric(i))),
        ("resourceLogs", _signal(i, "scopeLogs", "logRecords", _log_record(i))),
    ])


# Tried in this order: a group written the first way fails the second at its first integer.
_PARSERS = [pj.ParseOptions(explicit_schema=schema(i), unexpected_field_behavior="error")
            for i in (_AS_TEXT, _AS_NUMBERS)]
SCHEMA = schema(_AS_TEXT)


# --- reading a group -------------------------------------------------------------------------


@dataclass
class Region:
    """One data file's new lines, as the group's reader holds them."""

    source_file: str
    first_line: int
    data: bytes  # complete lines, each ending with a newline
    lines: int


@dataclass
class Loaded:
    """What the Arrow reader read from one group."""

    held: dict[str, int]  # records per model table: spans, metric_points, logs
    signals: dict[str, str]  # source file -> traces | metrics | logs | mixed
    records: dict[str, pa.Table]  # per registered name: rows naming their resource (res_key)


def load(con: duckdb.DuckDBPyConnection, regions: list[Region]) -> Loaded:
    """Parse and flatten the regions, check them (ingest_arrow_checks.sql), and make ready
    their resources for ingest_resources.sql (_res_in) and the values' macros
    (ingest_values_arrow.sql) on ``con``; return the records for register_records. Raises
    Refused when the SQL reader must read the group."""
    data = b"".join(r.data for r in regions)
    longest = _longest_line(data)
    try:
        loaded = _register(con, _parse(data), regions, longest)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise Refused(str(exc)) from None
    if con.execute(db.load_sql("ingest_arrow_checks")).fetchone()[0]:
        raise Refused("a record the SQL reader reports")
    for name in ("ingest_values_arrow", "ingest_res_arrow"):
        con.execute(db.load_sql(name))
    return loaded


def _parse(data: bytes) -> pa.Table:
    for parser in _PARSERS[:-1]:
        try:
            return pj.read_json(pa.BufferReader(data), parse_options=parser)
        except pa.ArrowInvalid as exc:
            if "changed from string to number" not in str(exc):
                raise
    return pj.read_json(pa.BufferReader(data), parse_options=_PARSERS[-1])


def unload(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the registered records of the last group."""
    for name in _REGISTERED:
        try:
            con.unregister(name)
        except duckdb.Error:
            pass


def _register(
    con: duckdb.DuckDBPyConnection, table: pa.Table, regions: list[Region], longest: int
) -> Loaded:
    if table.num_rows != sum(r.lines for r in regions):
        raise Refused("a line does not hold exactly one JSON object")
    files = _row_files(regions)
    retype = _Retype()
    held, present, per_line = {}, [], np.zeros(table.num_rows, dtype=np.int64)
    first_key, records, resources = 0, {}, []
    for signal, resources_key, scopes_key, items_key in SIGNALS:
        column = table.column(resources_key).combine_chunks()
        present.append(column.is_valid().to_numpy(zero_copy_only=False))
        per_line += pc.fill_null(pc.list_value_length(column), 0).to_numpy()
        res, items = _flatten(column, scopes_key, items_key, files, retype, first_key)
        first_key += res.num_rows
        resources.append(res.append_column("signal", pa.array([signal] * res.num_rows,
                                                              pa.string())))
        name, rows, side_tables = _RECORDS[signal](items, retype)
        for side_name, side in side_tables.items():
            con.register(side_name, side)
        records[name] = rows
        held[signal] = rows.num_rows
    con.register("_arrow_res", pa.concat_tables(resources))
    if not per_line.all():
        raise Refused("a line without resourceSpans, resourceMetrics or resourceLogs")
    if longest + _JSON_GROWTH_PER_ELEMENT * retype.longest_array > LONGEST_LINE:
        raise Refused("an array value that may be cut")
    counts = {"spans": held["traces"], "metric_points": held["metrics"], "logs": held["logs"]}
    return Loaded(counts, _signals(files, present), records)


_RESOURCE_COLUMNS = ("source_file", "line_no", "session_id", "resource_id", "service_name",
                     "resource_pid")


def register_records(con: duckdb.DuckDBPyConnection, loaded: Loaded) -> None:
    """Register the records with their resource's columns from _res (ingest_resources.sql)
    for ingest_items_arrow.sql. Joined here rather than in SQL: DuckDB would build its hash
    table on the records, with every field they hold."""
    res = con.execute(db.load_sql("ingest_arrow_resources")).to_arrow_table()
    if not np.array_equal(res.column("res_key").to_numpy(), np.arange(res.num_rows)):
        raise Refused("resources out of step with their records")  # not expected
    for name, rows in loaded.records.items():
        keys = rows.column("res_key")
        joined = {c: res.column(c).take(keys) for c in _RESOURCE_COLUMNS}
        con.register(name, pa.table(joined | {c: rows.column(c) for c in rows.column_names
                                               if c != "res_key"}))


def _longest_line(data: bytes) -> int:
    """The longest line's length; refuses what pyarrow would read differently from the SQL
    reader (a NUL in a string) and lines the SQL reader may cut (over 1 MiB)."""
    if b"\\u0000" in data:
        raise Refused("a string holds NUL")
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    longest = int(np.max(np.diff(ends, prepend=-1))) if len(ends) else 0
    if longest > LONGEST_LINE:
        raise Refused("a line over 1 MiB")
    return longest


@dataclass
class _Files:
    """Which data file and line each row (line of the joined regions) is."""

    source: pa.DictionaryArray  # per row
    line_no: np.ndarray  # per row
    names: list[str]
    row_file: np.ndarray  # per row: index into names


def _row_files(regions: list[Region]) -> _Files:
    names = [r.source_file for r in regions]
    counts = np.array([r.lines for r in regions], dtype=np.int64)
    row_file = np.repeat(np.arange(len(regions), dtype=np.int32), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    firsts = np.array([r.first_line for r in regions], dtype=np.int64)
    rows = np.arange(int(counts.sum()), dtype=np.int64)
    line_no = rows - starts[row_file] + firsts[row_file]
    source = pa.DictionaryArray.from_arrays(pa.array(row_file), pa.array(names))
    return _Files(source, line_no, names, row_file)


def _flatten(
    column: pa.ListArray, scopes_key: str, items_key: str, files: _Files, retype: _Retype,
    first_key: int,
) -> tuple[pa.Table, pa.Table]:
    """One signal's resources (one row each, with its line, position in the line and a key
    unique in the group, from ``first_key``) and records (one row each, with their
    resource's key and their scope).
    Refuses a null resource, scope or record (the SQL reader stores or reports those by
    rules of their own) and a resource with an array value (its id is made from the JSON
    the SQL reader holds)."""
    res = _no_nulls(column.flatten())
    res_row = pc.list_parent_indices(column).to_numpy()
    offsets = column.offsets.to_numpy()
    ridx = np.arange(len(res), dtype=np.int64) - offsets[res_row] + 1
    resources = pa.table({
        "res_key": pa.array(np.arange(first_key, first_key + len(res), dtype=np.int64)),
        "source_file": files.source.take(pa.array(res_row)),
        "line_no": pa.array(files.line_no[res_row]),
        "ridx": pa.array(ridx),
        "resource": _resource(res, retype),
        "schema_url": pc.struct_field(res, "schemaUrl"),
    })
    scope_lists = pc.struct_field(res, scopes_key)
    scopes = _no_nulls(scope_lists.flatten())
    scope_res = pc.list_parent_indices(scope_lists).to_numpy()
    item_lists = pc.struct_field(scopes, items_key)
    item_res = scope_res[pc.list_parent_indices(item_lists).to_numpy()]
    item_scope = pc.list_parent_indices(item_lists)
    scope = pc.struct_field(scopes, "scope")
    items = pa.table({
        "res_key": pa.array(item_res + first_key),
        "scope_name": pc.struct_field(scope, "name").take(item_scope),
        "scope_version": pc.struct_field(scope, "version").take(item_scope),
        "item": _no_nulls(item_lists.flatten()),
    })
    return resources, items


def _no_nulls(arr: pa.Array) -> pa.Array:
    if arr.null_count:
        raise Refused("a null resource, scope or record")
    return arr


def _resource(res: pa.Array, retype: _Retype) -> pa.Array:
    resource = pc.struct_field(res, "resource")
    attrs = pc.list_flatten(pc.struct_field(resource, "attributes"))
    if pc.struct_field(pc.struct_field(attrs, "value"), "arrayValue").null_count != len(attrs):
        raise Refused("a resource attribute holds an array")
    return retype(resource)


def _fields(arr: pa.Array, names: list[str]) -> pa.StructArray:
    return pa.StructArray.from_arrays([pc.struct_field(arr, n) for n in names], names=names)


def _with_item(items: pa.Table, item: pa.Array) -> pa.Table:
    return items.set_column(items.schema.get_field_index("item"), "item", item)


def _spans(items: pa.Table, retype: _Retype) -> tuple[str, pa.Table, dict[str, pa.Table]]:
    """The spans as ingest_items_arrow.sql reads them, and the fields the checks read."""
    spans = retype(items.column("item").combine_chunks())
    s = _fields(spans, ["traceId", "spanId", "startTimeUnixNano", "endTimeUnixNano", "kind"])
    status = _fields(pc.struct_field(spans, "status"), ["code"])
    checks = pa.StructArray.from_arrays(s.flatten() + [status],
                                        names=[f.name for f in s.type] + ["status"])
    return "_arrow_traces", _with_item(items, spans), {"_arrow_check_traces": pa.table(
        {"s": checks})}


def _logs(items: pa.Table, retype: _Retype) -> tuple[str, pa.Table, dict[str, pa.Table]]:
    logs = retype(items.column("item").combine_chunks())
    checks = _fields(logs, ["traceId", "spanId", "timeUnixNano", "observedTimeUnixNano"])
    return "_arrow_logs", _with_item(items, logs), {"_arrow_check_logs": pa.table({"l": checks})}


_TYPE_NAMES = dict(zip(METRIC_TYPES, ("gauge", "sum", "histogram", "exponential_histogram",
                                      "summary"), strict=True))


def _points(items: pa.Table, retype: _Retype) -> tuple[str, pa.Table, dict[str, pa.Table]]:
    """One row per data point with its metric's fields, as ingest_items_docs.sql's
    otlp_metric_points gives them, and the distinct attribute lists; refuses a metric
    without a name or without exactly one of the five types (the SQL reader reports the
    first, and picks among several)."""
    metrics = items.column("item").combine_chunks()
    if pc.struct_field(metrics, "name").null_count:
        raise Refused("a metric without a name")
    kinds = [pc.struct_field(metrics, t) for t in METRIC_TYPES]
    types_set = np.sum([k.is_valid().to_numpy(zero_copy_only=False) for k in kinds], axis=0)
    if len(metrics) and not (types_set == 1).all():
        raise Refused("a metric without exactly one of the five types")
    points = pa.concat_tables([_points_of(items, metrics, t, kind, retype)
                               for t, kind in zip(METRIC_TYPES, kinds, strict=True)])
    p = points.column("p").combine_chunks()  # once: the points of all five types
    checks = _fields(p, ["timeUnixNano", "startTimeUnixNano"])
    attr_ids, sets = _attribute_sets(pc.struct_field(p, "attributes"))
    return "_arrow_points", points.append_column("attr_id", attr_ids), {
        "_arrow_check_metrics": pa.table({"p": checks}), "_arrow_attr_sets": sets}


def _points_of(
    items: pa.Table, metrics: pa.StructArray, type_name: str, kind: pa.StructArray,
    retype: _Retype,
) -> pa.Table:
    lists = pc.struct_field(kind, "dataPoints")
    of = pc.list_parent_indices(lists)
    n = len(of)
    if type_name in ("sum", "histogram", "exponentialHistogram"):
        # as the SQL reader's coalesce(..., '0') for a type that has a temporality
        given = pc.cast(pc.struct_field(kind, "aggregationTemporality"), pa.string())
        temporality = pc.fill_null(given, "0").take(of)
    else:
        temporality = pa.nulls(n, pa.string())
    if type_name == "sum":
        monotonic = pc.fill_null(pc.struct_field(kind, "isMonotonic"), False).take(of)
    else:
        monotonic = pa.nulls(n, pa.bool_())
    columns = {name: items.column(name).take(of) for name in
               ("res_key", "scope_name", "scope_version")}
    columns |= {
        "metric_name": pc.struct_field(metrics, "name").take(of),
        "description": pc.struct_field(metrics, "description").take(of),
        "unit": pc.struct_field(metrics, "unit").take(of),
        "type": pa.array([_TYPE_NAMES[type_name]] * n, pa.string()),
        "temporality": temporality,
        "is_monotonic": monotonic,
        "p": retype(pc.list_flatten(lists)),
    }
    return pa.table(columns)


# Per signal: the name and rows ingest_items_arrow.sql reads, and the tables registered
# beside them (the fields ingest_arrow_checks.sql reads, the points' attribute lists).
_RECORDS = {"traces": _spans, "metrics": _points, "logs": _logs}
# every name the reader registers on a connection
_REGISTERED = ("_arrow_res", "_arrow_traces", "_arrow_points", "_arrow_logs",
               "_arrow_check_traces", "_arrow_check_metrics", "_arrow_check_logs",
               "_arrow_attr_sets")


def _signals(files: _Files, present: list[np.ndarray]) -> dict[str, str]:
    out = {}
    for i, name in enumerate(files.names):
        rows = files.row_file == i
        kinds = [sig for (sig, *_), p in zip(SIGNALS, present, strict=True) if p[rows].any()]
        if kinds:
            out[name] = kinds[0] if len(kinds) == 1 else "mixed"
    return out


# --- attribute sets ------------------------------------------------------------------------
# The points of a process repeat a few attribute lists (process.pid and a state, a
# generation, ...), and a typed map costs DuckDB ~5 µs to build, more than the rest of a
# point. So each distinct list is made a map once (ingest_items_arrow.sql); a point names its
# list by `attr_id`.

_MAX_SET_ATTRIBUTES = 16  # points with more attributes each get a map of their own


def _attribute_sets(attrs: pa.ListArray) -> tuple[pa.Array, pa.Table]:
    """Per point the id of its attribute list (`attr_id`), and the distinct lists (attr_id,
    kvs)."""
    found = _same_lists(attrs)
    if found is None:
        ids, first = np.arange(len(attrs)), np.arange(len(attrs))
    else:
        ids, first = found
    sets = pa.table({"attr_id": pa.array(np.arange(len(first), dtype=np.int64)),
                     "kvs": attrs.take(pa.array(first))})
    return pa.array(ids.astype(np.int64)), sets


def _same_lists(attrs: pa.ListArray) -> tuple[np.ndarray, np.ndarray] | None:
    """For each list the id of the first equal one's set, and each set's first list; None
    when that cannot be told exactly here (an array value, a long list, a hash collision)."""
    kv = pc.list_flatten(attrs)
    value = pc.struct_field(kv, "value")
    if pc.struct_field(value, "arrayValue").null_count != len(kv):
        return None
    lengths = pc.fill_null(pc.list_value_length(attrs), -1).to_numpy()  # -1: a null list
    if len(lengths) == 0 or lengths.max() > _MAX_SET_ATTRIBUTES:
        return None
    fields = [pc.struct_field(kv, "key")] + [pc.struct_field(value, n) for n in
                                             ("stringValue", "boolValue", "intValue",
                                              "doubleValue", "bytesValue")]
    kv_codes = np.stack([_codes(f) for f in fields]
                        + [f.is_valid().to_numpy(zero_copy_only=False) for f in fields], axis=1)
    found = _equal_rows(kv_codes.astype(np.int64))
    if found is None:
        return None
    parent = pc.list_parent_indices(attrs).to_numpy()
    starts = np.concatenate([[0], np.cumsum(np.maximum(lengths, 0))])
    lists = np.full((len(lengths), max(int(lengths.max()), 0) + 1), -1, dtype=np.int64)
    lists[:, 0] = lengths
    lists[parent, np.arange(len(kv)) - starts[parent] + 1] = found[0]
    return _equal_rows(lists)


def _codes(arr: pa.Array) -> np.ndarray:
    """Integers equal where the values are (a null's is any: the validity is compared too)."""
    if pa.types.is_string(arr.type):
        return pc.fill_null(pc.dictionary_encode(arr).indices, -1).to_numpy()
    if pa.types.is_floating(arr.type):  # the bits: -0.0 and 0.0 are different values
        return pc.fill_null(arr, 0.0).to_numpy().view(np.int64)
    return pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy()


def _equal_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row the id of its set of equal rows, and each set's first row: a hash per row,
    then a check that each row equals the first with its hash (None if one does not)."""
    mix = (np.arange(matrix.shape[1], dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
           | np.uint64(1))
    with np.errstate(over="ignore"):
        x = matrix.astype(np.uint64) * mix
        x ^= x >> np.uint64(29)
        hashes = x.sum(axis=1, dtype=np.uint64)
    ids = pc.dictionary_encode(pa.array(hashes)).indices.to_numpy()
    first = np.unique(ids, return_index=True)[1]
    if not (matrix[first[ids]] == matrix).all():
        return None
    return ids, first


# --- types as the SQL reader has them -------------------------------------------------------

# Fields read as text or numbers that ingest_shape.sql reads as another type, by name.
_TO_INT = frozenset({"intValue", "asInt"})
_TO_UINT = frozenset({"count", "zeroCount", "bucketCounts"})
_TO_TEXT = frozenset({"kind", "code", "aggregationTemporality", "severityNumber"})
# Integers as read_json takes them from JSON text; pyarrow's cast also takes "007" and "0x10".
_INT_TEXT = r"-?(0|[1-9][0-9]*)"
_UINT_TEXT = r"0|[1-9][0-9]*"


class _Retype:
    """Gives arrays the types ingest_shape.sql gives (text integers as integers, enums as
    text, attribute values with the kvlistValue field the SQL macros read, always NULL
    here: a kvlistValue is refused by the parser), and notes the longest array value."""

    def __init__(self) -> None:
        self.longest_array = 0

    def __call__(self, arr: pa.Array, name: str = "") -> pa.Array:
        t = arr.type
        if pa.types.is_struct(t):
            return self._struct(arr, name)
        if pa.types.is_list(t):
            offsets = arr.offsets
            first = offsets[0].as_py()
            values = arr.values.slice(first, offsets[-1].as_py() - first)
            if first:
                offsets = pc.subtract(offsets, first)
            if name == "attributes":
                _refuse_repeated_keys(offsets, values)
            return pa.ListArray.from_arrays(offsets, self(values, name), mask=_nulls(arr))
        if name in _TO_INT and pa.types.is_string(t):
            return _cast_text(arr, _INT_TEXT, pa.int64())
        if name in _TO_UINT and pa.types.is_string(t):
            return _cast_text(arr, _UINT_TEXT, pa.uint64())
        if name in _TO_TEXT or (name.endswith("UnixNano") and pa.types.is_integer(t)):
            return pc.cast(arr, pa.string())  # the number's text, as read_json reads it
        return arr

    def _struct(self, arr: pa.StructArray, name: str) -> pa.StructArray:
        t = arr.type
        names = [t.field(i).name for i in range(t.num_fields)]
        children = [self(arr.field(i), n) for i, n in enumerate(names)]
        if name == "arrayValue":
            lengths = pc.list_value_length(arr.field(0))
            self.longest_array = max(self.longest_array, pc.max(lengths).as_py() or 0)
        if "arrayValue" in names:
            children.append(pa.nulls(len(arr), pa.string()))
            names.append("kvlistValue")
        return pa.StructArray.from_arrays(children, names=names, mask=_nulls(arr))


def _refuse_repeated_keys(offsets: pa.Array, pairs: pa.StructArray) -> None:
    """The SQL reader keeps the last of a key given twice in one list (otlp_last_keys);
    ingest_values_arrow.sql does not look, so such a group is the SQL reader's."""
    if len(pairs) < 2:
        return
    keys = pc.dictionary_encode(pc.fill_null(pc.struct_field(pairs, "key"), ""))
    ids = keys.indices.to_numpy().astype(np.uint64)
    bounds = offsets.to_numpy()
    lengths = np.diff(bounds)
    if len(keys.dictionary) <= 64:  # the usual case: a bit per key, one pass
        used = lengths > 0
        bits = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), ids), bounds[:-1][used])
        repeated = (np.bitwise_count(bits) != lengths[used]).any()
    else:
        lists = np.repeat(np.arange(len(lengths), dtype=np.uint64), lengths)
        pairs_seen = pa.array(lists * np.uint64(len(keys.dictionary)) + ids)
        repeated = pc.count_distinct(pairs_seen).as_py() != len(pairs_seen)
    if repeated:
        raise Refused("an attribute list holds a key twice")


def _nulls(arr: pa.Array) -> pa.Array | None:
    return arr.is_null() if arr.null_count else None


def _cast_text(arr: pa.Array, pattern: str, to: pa.DataType) -> pa.Array:
    if len(arr) - arr.null_count and not pc.all(pc.match_substring_regex(
            arr, f"^(?:{pattern})$")).as_py():
        raise Refused("an integer in a form read_json does not read")
    try:
        return pc.cast(arr, to)
    except pa.ArrowInvalid as exc:
        raise Refused(f"an integer out of range: {exc}") from None
