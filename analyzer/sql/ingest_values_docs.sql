-- SQL reader: how otlp_value and otlp_attrs (ingest_values.sql) read what it holds. Run
-- when a connection is prepared and before each batch the SQL reader reads;
-- ingest_values_arrow.sql is the Arrow reader's.

-- An arrayValue or kvlistValue (OTLP JSON) as VARIANT: a list, an object.
CREATE OR REPLACE TEMP MACRO otlp_list_value(v) AS CASE
    WHEN otlp_too_big(coalesce(v.arrayValue, v.kvlistValue)) THEN otlp_truncated(
        coalesce(v.arrayValue, v.kvlistValue), 'over 1048576 bytes')::VARIANT
    WHEN v.arrayValue IS NOT NULL THEN to_json(list_transform(
        json_transform(v.arrayValue, otlp_array_structure()).values,
        av_x -> otlp_json(av_x)))::JSON::VARIANT
    WHEN v.kvlistValue IS NOT NULL THEN to_json(map_from_entries(otlp_last_keys(
        list_transform(json_transform(v.kvlistValue, otlp_kvlist_structure()).values,
                       av_x -> {'key': av_x.key, 'value': otlp_json(av_x.value)}))))::JSON::VARIANT
END;

-- The entries of an attribute map: the last of each key.
CREATE OR REPLACE TEMP MACRO otlp_attr_entries(entries) AS otlp_last_keys(entries);
