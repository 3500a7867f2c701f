-- The batch's spans (_docs joined to their resource in _res), flattened into `spans`.
-- Spans that fail otlp_span_problem (otlp_span_ok) are left out (ingest_problems.sql
-- reports them).
INSERT INTO spans BY NAME
WITH f AS (
    SELECT * EXCLUDE (item), item AS s, otlp_attrs(item.attributes) AS attributes,
        otlp_ts(item.startTimeUnixNano) AS start_time,
        otlp_ts(item.endTimeUnixNano) AS end_time
    FROM otlp_scope_items('traces', 'resourceSpans', 'scopeSpans', 'spans')
    WHERE otlp_span_ok(item)
)
SELECT session_id, resource_id, service_name, scope_name, scope_version,
    otlp_id(s.traceId) AS trace_id,
    otlp_id(s.spanId) AS span_id,
    otlp_id(s.parentSpanId) AS parent_span_id,
    nullif(s.traceState, '') AS trace_state,
    coalesce(s.flags, 0) AS flags,
    coalesce(s.name, '') AS name,
    otlp_span_kind(s.kind) AS kind,
    start_time, end_time,
    epoch_ns(end_time) - epoch_ns(start_time) AS duration_ns,
    otlp_status(s.status.code) AS status_code,
    nullif(s.status.message, '') AS status_message,
    attributes['gen_ai.operation.name']::VARCHAR AS operation,
    coalesce(attributes['swarm.agent.id'], attributes['gen_ai.agent.id'])::VARCHAR AS agent_id,
    attributes['gen_ai.agent.name']::VARCHAR AS agent_name,
    TRY_CAST(attributes['process.pid'] AS BIGINT) AS pid,
    TRY_CAST(attributes['process.parent_pid'] AS BIGINT) AS parent_pid,
    TRY_CAST(attributes['process.exit.code'] AS BIGINT) AS exit_code,
    attributes['swarm.agent.termination_reason']::VARCHAR AS termination_reason,
    TRY_CAST(attributes['swarm.process.signal'] AS BIGINT) AS exit_signal,
    attributes['error.type']::VARCHAR AS error_type,
    attributes['swarm.task.name']::VARCHAR AS task_name,
    attributes['swarm.task.id']::VARCHAR AS task_id,
    attributes,
    coalesce(list_transform(s.events, e -> {
        'time': otlp_ts(e.timeUnixNano), 'name': e.name,
        'attributes': otlp_attrs(e.attributes)}), []) AS events,
    coalesce(list_transform(s.links, l -> {
        'trace_id': otlp_id(l.traceId), 'span_id': otlp_id(l.spanId),
        'trace_state': nullif(l.traceState, ''),
        'attributes': otlp_attrs(l.attributes)}), []) AS links,
    source_file,
    line_no AS source_line
FROM f;
