-- The batch's log records into `logs`; records failing otlp_log_problem are left out
-- (ingest_problems.sql reports them).
INSERT INTO logs BY NAME
WITH f AS (
    SELECT * EXCLUDE (item), item AS l, otlp_attrs(item.attributes) AS attributes,
        otlp_ts(item.timeUnixNano) AS t, otlp_ts(item.observedTimeUnixNano) AS observed_ts
    FROM otlp_scope_items('logs', 'resourceLogs', 'scopeLogs', 'logRecords')
    WHERE otlp_log_problem(item) IS NULL
)
SELECT session_id, resource_id, service_name, scope_name, scope_version,
    coalesce(t, observed_ts) AS ts,
    observed_ts,
    coalesce(otlp_severity(l.severityNumber), 0) AS severity_number,
    nullif(l.severityText, '') AS severity_text,
    otlp_value(l.body) AS body,
    nullif(l.eventName, '') AS event_name,
    nullif(otlp_id(l.traceId), repeat('0', 32)) AS trace_id,
    nullif(otlp_id(l.spanId), repeat('0', 16)) AS span_id,
    coalesce(l.flags, 0) AS flags,
    coalesce(attributes['swarm.agent.id'], attributes['gen_ai.agent.id'])::VARCHAR AS agent_id,
    coalesce(TRY_CAST(attributes['process.pid'] AS BIGINT), resource_pid) AS pid,
    attributes,
    source_file,
    line_no AS source_line
FROM f;
