-- Arrow reader: how otlp_value and otlp_attrs (ingest_values.sql) read what it holds
-- (ingest_arrow.py). Run before each batch the Arrow reader reads; ingest_values_docs.sql
-- is the SQL reader's.

-- An arrayValue (a struct of scalar values; kvlistValue is always NULL, and no array can be
-- over 1 MiB: the reader refuses nested values, kvlists and long lines) as VARIANT, as the
-- SQL reader makes it from JSON.
CREATE OR REPLACE TEMP MACRO otlp_list_value(v) AS CASE
    WHEN v.arrayValue IS NOT NULL THEN to_json(list_transform(
        v.arrayValue.values, av_x -> otlp_json_scalar(av_x)))::JSON::VARIANT
END;

-- The entries of an attribute map: the reader refuses lists with a key twice.
CREATE OR REPLACE TEMP MACRO otlp_attr_entries(entries) AS entries;
