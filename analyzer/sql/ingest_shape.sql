-- The OTLP JSON shape the analyzer reads, as DuckDB types, one macro per OTLP message.
--
-- Type inference would shape the attribute-value struct from the keys it happened to see and
-- then fail on others, so every field is spelled out, and both readers use these types:
-- read_json (fast path, `columns = otlp_columns()`) and json_transform (careful path and
-- nested values, `json_transform(x, otlp_document_structure())`). Integers are read as
-- (U)BIGINT whether they arrive as JSON numbers or strings; timestamps (`*UnixNano`) as
-- VARCHAR, converted and range-checked by otlp_ts (ingest_macros.sql), so a value that is
-- legal OTLP but out of TIMESTAMP_NS's range, or a boolean, never fails the read and is
-- reported by field; enums (span kind, status code, severity, temporality) as VARCHAR
-- because proto JSON allows both the number and the enum name. Nested arrayValue / kvlistValue stay JSON and are converted by otlp_value
-- (ingest_macros.sql), one level deep.
--
-- A field absent from a line (OTLP omits zero values) becomes NULL; a field of the wrong type
-- also becomes NULL, and required fields are checked afterwards (otlp_*_problem).
-- Field names are quoted: OTLP JSON is camelCase and the names must keep their case.

CREATE OR REPLACE TEMP MACRO otlp_any_value_shape() AS
    'STRUCT("stringValue" VARCHAR, "boolValue" BOOLEAN, "intValue" BIGINT, '
    || '"doubleValue" DOUBLE, "bytesValue" VARCHAR, "arrayValue" JSON, "kvlistValue" JSON)';

CREATE OR REPLACE TEMP MACRO otlp_key_values_shape() AS
    'STRUCT("key" VARCHAR, "value" ' || otlp_any_value_shape() || ')[]';

CREATE OR REPLACE TEMP MACRO otlp_resource_shape() AS
    'STRUCT("attributes" ' || otlp_key_values_shape() || ', "droppedAttributesCount" UBIGINT)';

CREATE OR REPLACE TEMP MACRO otlp_scope_shape() AS
    'STRUCT("name" VARCHAR, "version" VARCHAR, "attributes" ' || otlp_key_values_shape() || ')';

CREATE OR REPLACE TEMP MACRO otlp_span_shape() AS
    'STRUCT("traceId" VARCHAR, "spanId" VARCHAR, "parentSpanId" VARCHAR, '
    || '"traceState" VARCHAR, "flags" UBIGINT, "name" VARCHAR, "kind" VARCHAR, '
    || '"startTimeUnixNano" VARCHAR, "endTimeUnixNano" VARCHAR, '
    || '"attributes" ' || otlp_key_values_shape() || ', "droppedAttributesCount" UBIGINT, '
    || '"events" STRUCT("timeUnixNano" VARCHAR, "name" VARCHAR, '
    ||     '"attributes" ' || otlp_key_values_shape() || ')[], '
    || '"links" STRUCT("traceId" VARCHAR, "spanId" VARCHAR, "traceState" VARCHAR, '
    ||     '"attributes" ' || otlp_key_values_shape() || ', "flags" UBIGINT)[], '
    || '"status" STRUCT("code" VARCHAR, "message" VARCHAR))';

CREATE OR REPLACE TEMP MACRO otlp_buckets_shape() AS
    'STRUCT("offset" INTEGER, "bucketCounts" UBIGINT[])';

-- One point shape for every metric type: each type uses its subset of the fields.
CREATE OR REPLACE TEMP MACRO otlp_data_point_shape() AS
    'STRUCT("attributes" ' || otlp_key_values_shape() || ', '
    || '"startTimeUnixNano" VARCHAR, "timeUnixNano" VARCHAR, "asDouble" DOUBLE, '
    || '"asInt" BIGINT, "flags" UBIGINT, "count" UBIGINT, "sum" DOUBLE, "min" DOUBLE, '
    || '"max" DOUBLE, "bucketCounts" UBIGINT[], "explicitBounds" DOUBLE[], '
    || '"scale" INTEGER, "zeroCount" UBIGINT, "zeroThreshold" DOUBLE, '
    || '"positive" ' || otlp_buckets_shape() || ', "negative" ' || otlp_buckets_shape() || ', '
    || '"quantileValues" STRUCT("quantile" DOUBLE, "value" DOUBLE)[])';

CREATE OR REPLACE TEMP MACRO otlp_metric_shape() AS
    'STRUCT("name" VARCHAR, "description" VARCHAR, "unit" VARCHAR, '
    || '"gauge" STRUCT("dataPoints" ' || otlp_data_point_shape() || '[]), '
    || '"sum" STRUCT("dataPoints" ' || otlp_data_point_shape() || '[], '
    ||     '"aggregationTemporality" VARCHAR, "isMonotonic" BOOLEAN), '
    || '"histogram" STRUCT("dataPoints" ' || otlp_data_point_shape() || '[], '
    ||     '"aggregationTemporality" VARCHAR), '
    || '"exponentialHistogram" STRUCT("dataPoints" ' || otlp_data_point_shape() || '[], '
    ||     '"aggregationTemporality" VARCHAR), '
    || '"summary" STRUCT("dataPoints" ' || otlp_data_point_shape() || '[]))';

CREATE OR REPLACE TEMP MACRO otlp_log_record_shape() AS
    'STRUCT("timeUnixNano" VARCHAR, "observedTimeUnixNano" VARCHAR, '
    || '"severityNumber" VARCHAR, "severityText" VARCHAR, '
    || '"body" ' || otlp_any_value_shape() || ', '
    || '"attributes" ' || otlp_key_values_shape() || ', "droppedAttributesCount" UBIGINT, '
    || '"flags" UBIGINT, "traceId" VARCHAR, "spanId" VARCHAR, "eventName" VARCHAR)';

-- resource -> scopes -> records, for each signal
CREATE OR REPLACE TEMP MACRO otlp_signal_shape(scopes_key, records_key, record_type) AS
    'STRUCT("resource" ' || otlp_resource_shape() || ', "schemaUrl" VARCHAR, '
    || '"' || scopes_key || '" STRUCT("scope" ' || otlp_scope_shape() || ', '
    || '"schemaUrl" VARCHAR, "' || records_key || '" ' || record_type || '[])[])[]';

-- The three top-level lists of a TracesData / MetricsData / LogsData line.
CREATE OR REPLACE TEMP MACRO otlp_columns() AS {
    'resourceSpans': otlp_signal_shape('scopeSpans', 'spans', otlp_span_shape()),
    'resourceMetrics': otlp_signal_shape('scopeMetrics', 'metrics', otlp_metric_shape()),
    'resourceLogs': otlp_signal_shape('scopeLogs', 'logRecords', otlp_log_record_shape())
};

-- The same as json_transform structures (a JSON string naming the DuckDB type).
CREATE OR REPLACE TEMP MACRO otlp_document_structure() AS to_json(
    'STRUCT("resourceSpans" ' || otlp_columns().resourceSpans
    || ', "resourceMetrics" ' || otlp_columns().resourceMetrics
    || ', "resourceLogs" ' || otlp_columns().resourceLogs || ')');
-- arrayValue / kvlistValue, one level deep: deeper values stay OTLP JSON.
CREATE OR REPLACE TEMP MACRO otlp_array_structure() AS to_json(
    'STRUCT("values" ' || otlp_any_value_shape() || '[])');
CREATE OR REPLACE TEMP MACRO otlp_kvlist_structure() AS to_json(
    'STRUCT("values" ' || otlp_key_values_shape() || ')');
