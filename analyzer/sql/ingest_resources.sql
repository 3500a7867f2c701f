-- Every resource of the batch (_docs) with its session (see otlp_session_id), then the ones
-- not stored yet into `resources`.
CREATE OR REPLACE TEMP TABLE _res AS
WITH r AS (
    SELECT source_file, line_no, 'traces' AS signal,
        generate_subscripts(resourceSpans, 1) AS ridx,
        unnest(list_transform(resourceSpans, x -> {'resource': x.resource,
                                                   'schema_url': x.schemaUrl})) AS r
    FROM _docs WHERE resourceSpans IS NOT NULL
    UNION ALL
    SELECT source_file, line_no, 'metrics', generate_subscripts(resourceMetrics, 1),
        unnest(list_transform(resourceMetrics, x -> {'resource': x.resource,
                                                     'schema_url': x.schemaUrl}))
    FROM _docs WHERE resourceMetrics IS NOT NULL
    UNION ALL
    SELECT source_file, line_no, 'logs', generate_subscripts(resourceLogs, 1),
        unnest(list_transform(resourceLogs, x -> {'resource': x.resource,
                                                  'schema_url': x.schemaUrl}))
    FROM _docs WHERE resourceLogs IS NOT NULL
),
a AS (
    SELECT *, otlp_attrs(r.resource.attributes) AS attributes FROM r
),
s AS (
    SELECT *, otlp_session_id(attributes, source_file) AS session_id FROM a
)
SELECT source_file, line_no, signal, ridx, session_id,
    md5(session_id || '|' || coalesce(r.schema_url, '') || '|'
        || coalesce(to_json(list_sort(r.resource.attributes))::VARCHAR, '')) AS resource_id,
    attributes,
    r.schema_url AS schema_url,
    attributes['service.name']::VARCHAR AS service_name,
    attributes['service.instance.id']::VARCHAR AS service_instance_id,
    attributes['host.name']::VARCHAR AS host_name,
    TRY_CAST(attributes['process.pid'] AS BIGINT) AS pid,
    attributes['swarm.topology']::VARCHAR AS topology,
    attributes['swarm.strategy']::VARCHAR AS strategy,
    TRY_CAST(attributes['swarm.max_agents'] AS BIGINT) AS max_agents,
    attributes['swarm.persistence']::VARCHAR AS persistence,
    TRY_CAST(attributes['swarm.host.cpu_count'] AS BIGINT) AS cpu_count,
    TRY_CAST(attributes['swarm.host.memory_total'] AS BIGINT) AS memory_total
FROM s;

-- The items of one signal in the batch with their resource (from _res) and scope, which
-- ingest_spans, ingest_metrics and ingest_logs read: one row per span, metric or log record,
-- as `item`. `sig` is the signal in _res; `resources`, `scopes` and `items` name the OTLP
-- lists (the _docs column, its scopes, their items), e.g.
-- `FROM otlp_scope_items('logs', 'resourceLogs', 'scopeLogs', 'logRecords')`.
-- Defined here, not in ingest_macros.sql: a table macro needs _docs and _res to exist.
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

INSERT INTO resources BY NAME
SELECT resource_id,
    any_value(session_id) AS session_id,
    any_value(service_name) AS service_name,
    any_value(service_instance_id) AS service_instance_id,
    any_value(host_name) AS host_name,
    any_value(pid) AS pid,
    any_value(topology) AS topology,
    any_value(strategy) AS strategy,
    any_value(max_agents) AS max_agents,
    any_value(persistence) AS persistence,
    any_value(cpu_count) AS cpu_count,
    any_value(memory_total) AS memory_total,
    any_value(attributes) AS attributes,
    any_value(schema_url) AS schema_url,
    any_value(source_file) AS source_file
FROM _res
WHERE resource_id NOT IN (SELECT resource_id FROM resources)
GROUP BY resource_id;
