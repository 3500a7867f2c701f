-- Arrow reader: the items of one signal in the batch with their resource (from _res) and
-- scope, as ingest_items_docs.sql gives them to ingest_spans and ingest_logs. The records
-- are flat already and carry their resource's columns (_arrow_traces, _arrow_logs: one row
-- each, registered by ingest_arrow.register_records); `resources`, `scopes` and `items`
-- are not needed.
CREATE OR REPLACE TEMP MACRO otlp_scope_items(sig, resources, scopes, items) AS TABLE
SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
    scope_name, scope_version, item
FROM query_table('_arrow_' || sig);

-- The distinct attribute lists of the batch's points as maps, each made once: the list
-- index is a point's attr_id + 1 (_arrow_attr_sets, registered by ingest_arrow.py).
CREATE OR REPLACE TEMP TABLE _attr_maps AS
SELECT list(otlp_attrs(kvs) ORDER BY attr_id) AS maps FROM _arrow_attr_sets;

-- The data points of the batch's metrics, as ingest_items_docs.sql gives them: flat already
-- (_arrow_points: one row per point with its metric's fields, registered by ingest_arrow.py).
CREATE OR REPLACE TEMP MACRO otlp_metric_points() AS TABLE
SELECT a.source_file, a.line_no, a.session_id, a.resource_id, a.service_name,
    a.resource_pid, a.scope_name, a.scope_version, a.metric_name, a.description, a.unit,
    a.type, a.temporality, a.is_monotonic, m.maps[a.attr_id + 1] AS attributes, a.p
FROM _arrow_points a, _attr_maps m;
