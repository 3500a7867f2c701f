-- Log records of the batch, flattened, with `problem` saying why one cannot be stored.
CREATE OR REPLACE TEMP TABLE _logs AS
WITH sc AS (
    SELECT source_file, line_no, session_id, resource_id, service_name, pid AS resource_pid,
        unnest(scope_logs) AS sc
    FROM _res WHERE signal = 'logs' AND scope_logs IS NOT NULL
),
lr AS (
    SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
        sc.scope.name AS scope_name, sc.scope.version AS scope_version,
        unnest(sc.logRecords) AS l
    FROM sc WHERE sc.logRecords IS NOT NULL
),
f AS (
    SELECT *, otlp_attrs(l.attributes) AS attributes,
        otlp_ts(l.timeUnixNano) AS t, otlp_ts(l.observedTimeUnixNano) AS observed_ts,
        nullif(otlp_id(l.traceId), repeat('0', 32)) AS trace_id,
        nullif(otlp_id(l.spanId), repeat('0', 16)) AS span_id
    FROM lr
)
SELECT session_id, resource_id, service_name, scope_name, scope_version,
    coalesce(t, observed_ts) AS ts,
    observed_ts,
    coalesce(otlp_severity(l.severityNumber), 0) AS severity_number,
    nullif(l.severityText, '') AS severity_text,
    otlp_value(l.body) AS body,
    nullif(l.eventName, '') AS event_name,
    trace_id, span_id,
    coalesce(l.flags, 0) AS flags,
    attributes['gen_ai.agent.id']::VARCHAR AS agent_id,
    coalesce(TRY_CAST(attributes['process.pid'] AS BIGINT), resource_pid) AS pid,
    attributes,
    source_file,
    line_no AS source_line,
    CASE
        WHEN trace_id IS NOT NULL AND NOT otlp_valid_id(trace_id, 32)
            THEN 'log record: invalid traceId'
        WHEN span_id IS NOT NULL AND NOT otlp_valid_id(span_id, 16)
            THEN 'log record: invalid spanId'
    END AS problem
FROM f;
