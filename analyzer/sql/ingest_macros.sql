-- Helpers for turning OTLP JSON (as shaped by otlp.py) into the model's columns.
-- $ARRAY and $KVLIST are replaced by the json_transform structures from otlp.py.

-- Ids: hex in any case -> lower-case; empty -> NULL.
CREATE OR REPLACE TEMP MACRO otlp_id(x) AS nullif(lower(trim(x)), '');
CREATE OR REPLACE TEMP MACRO otlp_valid_id(x, digits) AS
    x IS NOT NULL AND length(x) = digits AND regexp_full_match(x, '[0-9a-f]+')
    AND x <> repeat('0', digits);

-- Nanoseconds since the epoch -> TIMESTAMP_NS; 0 (an omitted value) -> NULL.
CREATE OR REPLACE TEMP MACRO otlp_ts(ns) AS
    CASE WHEN ns > 0 AND ns <= 9223372036854775807 THEN make_timestamp_ns(ns::BIGINT) END;

-- A nested value (inside arrayValue / kvlistValue) as plain JSON.
CREATE OR REPLACE TEMP MACRO otlp_json(v) AS CASE
    WHEN v.stringValue IS NOT NULL THEN to_json(v.stringValue)
    WHEN v.intValue IS NOT NULL THEN to_json(v.intValue)
    WHEN v.doubleValue IS NOT NULL THEN to_json(v.doubleValue)
    WHEN v.boolValue IS NOT NULL THEN to_json(v.boolValue)
    WHEN v.bytesValue IS NOT NULL THEN to_json(v.bytesValue)
    WHEN v.arrayValue IS NOT NULL THEN v.arrayValue
    WHEN v.kvlistValue IS NOT NULL THEN v.kvlistValue
END;

-- An AnyValue as a typed VARIANT: string, int, double, bool, bytes (BLOB), array (list),
-- kvlist (object). Values nested two levels deep keep their OTLP JSON form.
CREATE OR REPLACE TEMP MACRO otlp_value(v) AS CASE
    WHEN v.stringValue IS NOT NULL THEN v.stringValue::VARIANT
    WHEN v.intValue IS NOT NULL THEN v.intValue::VARIANT
    WHEN v.doubleValue IS NOT NULL THEN v.doubleValue::VARIANT
    WHEN v.boolValue IS NOT NULL THEN v.boolValue::VARIANT
    WHEN v.bytesValue IS NOT NULL THEN TRY(from_base64(v.bytesValue))::VARIANT
    WHEN v.arrayValue IS NOT NULL THEN to_json(list_transform(
        json_transform(v.arrayValue, $ARRAY).values, x -> otlp_json(x)))::JSON::VARIANT
    WHEN v.kvlistValue IS NOT NULL THEN to_json(TRY(map_from_entries(list_transform(
        json_transform(v.kvlistValue, $KVLIST).values,
        x -> {'key': x.key, 'value': otlp_json(x.value)}))))::JSON::VARIANT
END;

-- key/value list -> MAP(VARCHAR, VARIANT). Duplicate keys (illegal in OTLP) give NULL.
CREATE OR REPLACE TEMP MACRO otlp_attrs(kvs) AS coalesce(
    TRY(map_from_entries(list_transform(kvs, a -> {'key': a.key, 'value': otlp_value(a.value)}))),
    MAP()::MAP(VARCHAR, VARIANT));

-- Enums arrive as numbers or as their proto names.
CREATE OR REPLACE TEMP MACRO otlp_span_kind(k) AS CASE coalesce(k, '0')
    WHEN '0' THEN 'UNSPECIFIED' WHEN '1' THEN 'INTERNAL' WHEN '2' THEN 'SERVER'
    WHEN '3' THEN 'CLIENT' WHEN '4' THEN 'PRODUCER' WHEN '5' THEN 'CONSUMER'
    ELSE regexp_replace(upper(k), '^SPAN_KIND_', '') END;
CREATE OR REPLACE TEMP MACRO otlp_status(c) AS CASE coalesce(c, '0')
    WHEN '0' THEN 'UNSET' WHEN '1' THEN 'OK' WHEN '2' THEN 'ERROR'
    ELSE regexp_replace(upper(c), '^STATUS_CODE_', '') END;
CREATE OR REPLACE TEMP MACRO otlp_temporality(t) AS CASE t
    WHEN '0' THEN 'UNSPECIFIED' WHEN '1' THEN 'DELTA' WHEN '2' THEN 'CUMULATIVE'
    ELSE regexp_replace(upper(t), '^AGGREGATION_TEMPORALITY_', '') END;
CREATE OR REPLACE TEMP MACRO otlp_severity(s) AS coalesce(
    TRY_CAST(s AS INTEGER),
    list_position(['TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4',
                   'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4',
                   'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'],
                  regexp_replace(upper(s), '^SEVERITY_NUMBER_', '')));
