-- Attribute values and maps, the same for both readers; the parts that depend on how a
-- reader holds the values (otlp_list_value, otlp_attr_entries) are defined per batch by
-- ingest_values_docs.sql or ingest_values_arrow.sql, which run before this file first.

-- An AnyValue as a typed VARIANT: string, int, double, bool, bytes (BLOB), array (list),
-- kvlist (object). Values nested two levels deep keep their OTLP JSON form.
-- (coalesce only evaluates an argument for the rows still NULL, which keeps this cheap.)
CREATE OR REPLACE TEMP MACRO otlp_value(v) AS coalesce(
    otlp_string(v.stringValue)::VARIANT,
    v.intValue::VARIANT,
    v.doubleValue::VARIANT,
    v.boolValue::VARIANT,
    CASE
        WHEN v.bytesValue IS NOT NULL THEN TRY(from_base64(v.bytesValue))::VARIANT
        ELSE otlp_list_value(v)
    END);

-- key/value list -> MAP(VARCHAR, VARIANT); an absent list gives an empty map, an absent
-- key (illegal) the key ''.
CREATE OR REPLACE TEMP MACRO otlp_attrs(kvs) AS coalesce(
    map_from_entries(otlp_attr_entries(list_transform(kvs,
        kv_a -> {'key': coalesce(kv_a.key, ''), 'value': otlp_value(kv_a.value)}))),
    MAP()::MAP(VARCHAR, VARIANT));

