-- Arrow reader: the items of one signal in the batch with their resource (from _res) and
-- scope, as ingest_items_docs.sql gives them to ingest_spans and ingest_logs. The records
-- are flat already and carry their resource's columns (_arrow_traces, _arrow_logs: one row
-- each, registered by ingest_arrow.register_records); `resources`, `scopes` and `items`
-- are not needed.
CREATE OR REPLACE TEMP MACRO otlp_scope_items(sig, resources, scopes, items) AS TABLE
SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
    scope_name, scope_version, item
FROM query_table('_arrow_' || sig);

-- The data points of the batch's metrics, as ingest_items_docs.sql gives them: flat already
-- (_arrow_points: one row per point with its metric's fields, registered by ingest_arrow.py).
CREATE OR REPLACE TEMP MACRO otlp_metric_points() AS TABLE
SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
    scope_name, scope_version, metric_name, description, unit, type, temporality,
    is_monotonic, p
FROM _arrow_points;
