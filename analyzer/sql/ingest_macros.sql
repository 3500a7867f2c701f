-- Helpers for turning OTLP JSON (as shaped by ingest_shape.sql, loaded first) into the
-- model's columns.

-- Ids: hex in any case -> lower-case; empty -> NULL.
CREATE OR REPLACE TEMP MACRO otlp_id(x) AS nullif(lower(trim(x)), '');
CREATE OR REPLACE TEMP MACRO otlp_valid_id(x, digits) AS
    x IS NOT NULL AND length(x) = digits AND ltrim(x, '0123456789abcdef') = ''
    AND x <> repeat('0', digits);

-- A value from telemetry quoted for a reason text: at most 40 characters.
CREATE OR REPLACE TEMP MACRO otlp_quote(v) AS
    '"' || left(v::VARCHAR, 40) || CASE WHEN length(v::VARCHAR) > 40 THEN '…' ELSE '' END || '"';

-- Nanoseconds since the epoch (a fixed64 as JSON text: number or string) -> TIMESTAMP_NS.
-- NULL for 0 or absent (an omitted value), for text that is no unsigned 64-bit integer
-- (e.g. `true`), and for a legal fixed64 beyond TIMESTAMP_NS (after 2262-04-11; INT64 max
-- itself means infinity): otlp_ts_problem says which.
CREATE OR REPLACE TEMP MACRO otlp_ns(v) AS TRY_CAST(v AS UBIGINT);
CREATE OR REPLACE TEMP MACRO otlp_ts(v) AS
    CASE WHEN otlp_ns(v) BETWEEN 1 AND 9223372036854775806
         THEN make_timestamp_ns(otlp_ns(v)::BIGINT) END;
CREATE OR REPLACE TEMP MACRO otlp_ts_problem(field, v) AS CASE
    WHEN v IS NULL OR otlp_ns(v) = 0 THEN field || ' is missing'
    WHEN otlp_ns(v) IS NULL THEN field || ' is not an unsigned 64-bit integer: ' || otlp_quote(v)
    WHEN otlp_ns(v) > 9223372036854775806
        THEN field || ' ' || v || ' is out of range (the last representable time is 2262-04-11)'
END;
-- An optional timestamp that is present but unusable (it is stored as NULL).
CREATE OR REPLACE TEMP MACRO otlp_ts_warning(field, v) AS CASE
    WHEN v IS NOT NULL AND coalesce(otlp_ns(v), 1) <> 0 AND otlp_ts(v) IS NULL
        THEN otlp_ts_problem(field, v) || ' (stored as NULL)'
END;

-- Limits on attribute values (docs/schema.md, "Limits"): strings over 1 MiB are cut with a
-- marker; an array or kvlist whose OTLP JSON is over 1 MiB, or a value nested two levels
-- down holding more than 192 JSON objects and arrays (which bounds its depth) or over
-- 64 KiB of JSON, is replaced by a marker object. Deep values would otherwise be stored
-- whole and crash later queries.
CREATE OR REPLACE TEMP MACRO otlp_string(x) AS CASE
    WHEN strlen(x) <= 1048576 THEN x
    ELSE left(x, 1048576) || '…[swarmscope: truncated, ' || strlen(x) || ' bytes]'
END;
CREATE OR REPLACE TEMP MACRO otlp_truncated(j, why) AS json_object(
    'swarm.truncated', why, 'swarm.truncated.bytes', strlen(j::VARCHAR),
    'swarm.truncated.prefix', left(j::VARCHAR, 256));
CREATE OR REPLACE TEMP MACRO otlp_containers(j) AS
    strlen(j::VARCHAR) - strlen(replace(replace(j::VARCHAR, '[', ''), '{', ''));
CREATE OR REPLACE TEMP MACRO otlp_nested(j) AS CASE
    WHEN strlen(j::VARCHAR) > 65536 THEN otlp_truncated(j, 'over 65536 bytes')
    WHEN otlp_containers(j) > 192 THEN otlp_truncated(j, 'over 192 JSON objects and arrays')
    ELSE j
END;
CREATE OR REPLACE TEMP MACRO otlp_too_big(j) AS strlen(j::VARCHAR) > 1048576;

-- A nested value (inside arrayValue / kvlistValue) as plain JSON; otlp_json_scalar for the
-- scalar kinds alone.
CREATE OR REPLACE TEMP MACRO otlp_json_scalar(v) AS CASE
    WHEN v.stringValue IS NOT NULL THEN to_json(v.stringValue)
    WHEN v.intValue IS NOT NULL THEN to_json(v.intValue)
    WHEN v.doubleValue IS NOT NULL THEN to_json(v.doubleValue)
    WHEN v.boolValue IS NOT NULL THEN to_json(v.boolValue)
    WHEN v.bytesValue IS NOT NULL THEN to_json(v.bytesValue)
END;
CREATE OR REPLACE TEMP MACRO otlp_json(v) AS coalesce(otlp_json_scalar(v), CASE
    WHEN v.arrayValue IS NOT NULL THEN otlp_nested(v.arrayValue)
    WHEN v.kvlistValue IS NOT NULL THEN otlp_nested(v.kvlistValue)
END);

-- Entries with duplicate keys (illegal in OTLP, but seen): keep the last of each key.
CREATE OR REPLACE TEMP MACRO otlp_last_keys(entries) AS CASE
    WHEN list_unique(list_transform(entries, lk_e -> lk_e.key)) = len(entries) THEN entries
    ELSE list_filter(entries, (lk_e, lk_i) -> NOT list_contains(
        list_transform(entries[lk_i + 1:], lk_x -> lk_x.key), lk_e.key))
END;

-- Enums arrive as numbers or as their proto names (with or without the prefix). A value
-- that is neither is stored as the zero value, with a warning (otlp_span_warning).
CREATE OR REPLACE TEMP MACRO otlp_span_kind_known(k) AS CASE coalesce(k, '0')
    WHEN '0' THEN 'UNSPECIFIED' WHEN '1' THEN 'INTERNAL' WHEN '2' THEN 'SERVER'
    WHEN '3' THEN 'CLIENT' WHEN '4' THEN 'PRODUCER' WHEN '5' THEN 'CONSUMER'
    ELSE list_extract(['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'],
        list_position(['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'],
                      regexp_replace(upper(k), '^SPAN_KIND_', ''))) END;
CREATE OR REPLACE TEMP MACRO otlp_span_kind(k) AS coalesce(otlp_span_kind_known(k), 'UNSPECIFIED');
CREATE OR REPLACE TEMP MACRO otlp_status_known(c) AS CASE coalesce(c, '0')
    WHEN '0' THEN 'UNSET' WHEN '1' THEN 'OK' WHEN '2' THEN 'ERROR'
    ELSE list_extract(['UNSET', 'OK', 'ERROR'], list_position(['UNSET', 'OK', 'ERROR'],
                      regexp_replace(upper(c), '^STATUS_CODE_', ''))) END;
CREATE OR REPLACE TEMP MACRO otlp_status(c) AS coalesce(otlp_status_known(c), 'UNSET');
CREATE OR REPLACE TEMP MACRO otlp_temporality(t) AS CASE t
    WHEN '0' THEN 'UNSPECIFIED' WHEN '1' THEN 'DELTA' WHEN '2' THEN 'CUMULATIVE'
    ELSE regexp_replace(upper(t), '^AGGREGATION_TEMPORALITY_', '') END;
CREATE OR REPLACE TEMP MACRO otlp_severity(s) AS coalesce(
    TRY_CAST(s AS INTEGER),
    list_position(['TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4',
                   'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4',
                   'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'],
                  regexp_replace(upper(s), '^SEVERITY_NUMBER_', '')));

-- The session a resource belongs to: session.id, else service.name + service.instance.id,
-- else service.name + the name of the directory the file is in.
CREATE OR REPLACE TEMP MACRO otlp_session_id(attrs, source_file) AS coalesce(
    nullif(attrs['session.id']::VARCHAR, ''),
    coalesce(attrs['service.name']::VARCHAR, 'unknown_service') || '/'
        || coalesce(attrs['service.instance.id']::VARCHAR,
                    regexp_extract(source_file, '([^/]*)/[^/]*$', 1)));

-- Why a span / data point / log record cannot be stored (NULL: it can).
CREATE OR REPLACE TEMP MACRO otlp_span_problem(s) AS CASE
    WHEN NOT otlp_valid_id(otlp_id(s.traceId), 32) THEN 'span: missing or invalid traceId'
    WHEN NOT otlp_valid_id(otlp_id(s.spanId), 16) THEN 'span: missing or invalid spanId'
    WHEN otlp_ts(s.startTimeUnixNano) IS NULL
        THEN 'span: ' || otlp_ts_problem('startTimeUnixNano', s.startTimeUnixNano)
    WHEN otlp_ts(s.endTimeUnixNano) IS NULL
        THEN 'span: ' || otlp_ts_problem('endTimeUnixNano', s.endTimeUnixNano)
END;
-- What was stored differently from what the span said (NULL: nothing).
CREATE OR REPLACE TEMP MACRO otlp_span_warning(s) AS CASE
    WHEN otlp_span_kind_known(s.kind) IS NULL
        THEN 'span: unknown kind ' || otlp_quote(s.kind) || ' (stored as UNSPECIFIED)'
    WHEN otlp_status_known(s.status.code) IS NULL
        THEN 'span: unknown status code ' || otlp_quote(s.status.code) || ' (stored as UNSET)'
END;
-- The same test as `otlp_span_problem(s) IS NULL`, for filtering: that CASE lower()s and
-- trim()s each id four times per span (~15 % of flattening spans); one regex per id on the
-- raw text is equivalent (trim() only strips spaces, and only A-F lower-case to a-f).
CREATE OR REPLACE TEMP MACRO otlp_span_ok(s) AS
    regexp_full_match(s.traceId, ' *[0-9a-fA-F]{32} *')
    AND NOT regexp_full_match(s.traceId, ' *0{32} *')
    AND regexp_full_match(s.spanId, ' *[0-9a-fA-F]{16} *')
    AND NOT regexp_full_match(s.spanId, ' *0{16} *')
    AND otlp_ts(s.startTimeUnixNano) IS NOT NULL AND otlp_ts(s.endTimeUnixNano) IS NOT NULL;
CREATE OR REPLACE TEMP MACRO otlp_point_problem(name, p) AS CASE
    WHEN otlp_ts(p.timeUnixNano) IS NULL
        THEN 'metric ' || name || ': point ' || otlp_ts_problem('timeUnixNano', p.timeUnixNano)
END;
CREATE OR REPLACE TEMP MACRO otlp_point_warning(name, p) AS
    'metric ' || name || ': point ' || otlp_ts_warning('startTimeUnixNano', p.startTimeUnixNano);
CREATE OR REPLACE TEMP MACRO otlp_log_warning(l) AS 'log record: ' || coalesce(
    otlp_ts_warning('timeUnixNano', l.timeUnixNano),
    otlp_ts_warning('observedTimeUnixNano', l.observedTimeUnixNano));
CREATE OR REPLACE TEMP MACRO otlp_log_problem(l) AS CASE
    WHEN nullif(otlp_id(l.traceId), repeat('0', 32)) IS NOT NULL
         AND NOT otlp_valid_id(otlp_id(l.traceId), 32) THEN 'log record: invalid traceId'
    WHEN nullif(otlp_id(l.spanId), repeat('0', 16)) IS NOT NULL
         AND NOT otlp_valid_id(otlp_id(l.spanId), 16) THEN 'log record: invalid spanId'
END;

-- Which of the five metric types a metric carries (NULL: none we know).
CREATE OR REPLACE TEMP MACRO otlp_metric_type(m) AS CASE
    WHEN m.gauge IS NOT NULL THEN 'gauge'
    WHEN m.sum IS NOT NULL THEN 'sum'
    WHEN m.histogram IS NOT NULL THEN 'histogram'
    WHEN m.exponentialHistogram IS NOT NULL THEN 'exponential_histogram'
    WHEN m.summary IS NOT NULL THEN 'summary'
END;
