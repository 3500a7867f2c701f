-- The batch's log records into `logs`; records failing otlp_log_problem are left out
-- (ingest_problems.sql reports them).
INSERT INTO logs BY NAME
WITH r AS (
    SELECT source_file, line_no, generate_subscripts(resourceLogs, 1) AS ridx,
        unnest(resourceLogs).scopeLogs AS scopes
    FROM _docs WHERE resourceLogs IS NOT NULL
),
sc AS (
    SELECT res.source_file, res.line_no, res.session_id, res.resource_id, res.service_name,
        res.pid AS resource_pid, unnest(r.scopes) AS sc
    FROM r JOIN _res res USING (source_file, line_no, ridx)
    WHERE res.signal = 'logs'
),
lr AS (
    SELECT source_file, line_no, session_id, resource_id, service_name, resource_pid,
        sc.scope.name AS scope_name, sc.scope.version AS scope_version,
        unnest(sc.logRecords) AS l
    FROM sc
),
f AS (
    SELECT *, otlp_attrs(l.attributes) AS attributes,
        otlp_ts(l.timeUnixNano) AS t, otlp_ts(l.observedTimeUnixNano) AS observed_ts
    FROM lr
    WHERE otlp_log_problem(l) IS NULL
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
