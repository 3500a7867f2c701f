-- The items of one signal in the batch with their resource (from _res) and scope, which
-- ingest_spans, ingest_metrics and ingest_logs read: one row per span, metric or log record,
-- as `item`. `sig` is the signal in _res; `resources`, `scopes` and `items` name the OTLP
-- lists (the _docs column, its scopes, their items), e.g.
-- `FROM otlp_scope_items('logs', 'resourceLogs', 'scopeLogs', 'logRecords')`.
-- SQL reader. Defined per batch, not in ingest_macros.sql: a table macro needs _docs and
-- _res to exist (ingest_items_arrow.sql is the Arrow reader's).
CREATE OR REPLACE TEMP MACRO otlp_scope_items(sig, resources, scopes, items) AS TABLE
WITH r AS (
    SELECT source_file, line_no, generate_subscripts(COLUMNS('^' || resources || '$'), 1)
            AS ridx,
        struct_extract(unnest(COLUMNS('^' || resources || '$')), scopes) AS scopes
    FROM _docs WHERE COLUMNS('^' || resources || '$') IS NOT NULL
),
sc AS (
    SELECT res.source_file, res.line_no, res.session_id, res.resource_id, res.service_name,
        res.pid AS resource_pid, unnest(r.scopes) AS sc
    FROM r JOIN _res res USING (source_file, line_no, ridx)
    WHERE res.signal = sig
)
SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
    sc.scope.name AS scope_name, sc.scope.version AS scope_version,
    unnest(struct_extract(sc, items)) AS item
FROM sc;

-- The data points of the batch's metrics, one row each with its metric's fields as OTLP has
-- them and its attributes as a map (ingest_metrics.sql reads this). Metrics without a name
-- or a type we know are left out; when several types are set, the first of gauge, sum,
-- histogram, exponentialHistogram, summary counts.
CREATE OR REPLACE TEMP MACRO otlp_metric_points() AS TABLE
WITH m AS (
    SELECT * EXCLUDE (item), item AS m
    FROM otlp_scope_items('metrics', 'resourceMetrics', 'scopeMetrics', 'metrics')
),
points AS (
    SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
        scope_name, scope_version,
        m.name AS metric_name,
        m.description,
        m.unit,
        otlp_metric_type(m) AS type,
        coalesce(m.sum.aggregationTemporality, m.histogram.aggregationTemporality,
            m.exponentialHistogram.aggregationTemporality,
            CASE WHEN m.gauge IS NULL AND m.summary IS NULL THEN '0' END) AS temporality,
        CASE WHEN m.sum IS NOT NULL THEN coalesce(m.sum.isMonotonic, false) END AS is_monotonic,
        unnest(coalesce(m.gauge.dataPoints, m.sum.dataPoints, m.histogram.dataPoints,
                        m.exponentialHistogram.dataPoints, m.summary.dataPoints)) AS p
    FROM m
    WHERE m.name IS NOT NULL AND otlp_metric_type(m) IS NOT NULL
)
SELECT * EXCLUDE (p), otlp_attrs(p.attributes) AS attributes, p FROM points;
