-- The batch's metric data points (one row per point of any type, from otlp_metric_points:
-- ingest_items_docs.sql or ingest_items_arrow.sql) into `metric_points`. Metrics of an
-- unknown type and points failing otlp_point_problem are left out (ingest_problems.sql
-- reports them).
INSERT INTO metric_points BY NAME
WITH t AS (
    SELECT * EXCLUDE (description, unit, temporality),
        nullif(description, '') AS description,
        coalesce(unit, '') AS unit,
        otlp_temporality(temporality) AS temporality
    FROM otlp_metric_points()
),
f AS (
    SELECT *, otlp_ts(p.timeUnixNano) AS ts
    FROM t
    WHERE otlp_point_problem(metric_name, p) IS NULL
)
SELECT session_id, resource_id, service_name, scope_name, scope_version,
    metric_name, description, unit, type, temporality, is_monotonic,
    coalesce(attributes['swarm.agent.id'], attributes['gen_ai.agent.id'])::VARCHAR AS agent_id,
    coalesce(TRY_CAST(attributes['process.pid'] AS BIGINT), resource_pid) AS pid,
    ts,
    otlp_ts(p.startTimeUnixNano) AS start_ts,
    CASE WHEN type IN ('gauge', 'sum')
         THEN coalesce(p.asDouble, p.asInt::DOUBLE, 0.0) END AS value,
    p.asInt AS value_int,
    p.asDouble AS value_double,
    CASE WHEN type NOT IN ('gauge', 'sum') THEN coalesce(p.count, 0) END AS count,
    CASE WHEN type NOT IN ('gauge', 'sum')
         THEN coalesce(p.sum, CASE WHEN type = 'summary' THEN 0.0 END) END AS sum,
    p.min AS min,
    p.max AS max,
    CASE WHEN type = 'histogram' THEN coalesce(p.bucketCounts, []) END AS bucket_counts,
    CASE WHEN type = 'histogram' THEN coalesce(p.explicitBounds, []) END AS explicit_bounds,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.scale, 0) END AS scale,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.zeroCount, 0) END AS zero_count,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.zeroThreshold, 0.0) END
        AS zero_threshold,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.positive.offset, 0) END
        AS positive_offset,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.positive.bucketCounts, []) END
        AS positive_bucket_counts,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.negative.offset, 0) END
        AS negative_offset,
    CASE WHEN type = 'exponential_histogram' THEN coalesce(p.negative.bucketCounts, []) END
        AS negative_bucket_counts,
    CASE WHEN type = 'summary' THEN coalesce(list_transform(p.quantileValues, q -> {
        'quantile': coalesce(q.quantile, 0.0), 'value': coalesce(q.value, 0.0)}), []) END
        AS quantiles,
    coalesce(p.flags, 0) AS flags,
    attributes,
    source_file,
    line_no AS source_line
FROM f;
