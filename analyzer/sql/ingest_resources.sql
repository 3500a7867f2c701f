-- Every resource of the batch (_res_in: ingest_res_docs.sql or ingest_res_arrow.sql) with
-- its session (see otlp_session_id), then the ones not stored yet into `resources`.
CREATE OR REPLACE TEMP TABLE _res AS
WITH d AS (
    -- Each resource once per file: the lines of a file mostly repeat one. (Values equal as
    -- values are one resource: a double attribute 0.0 and -0.0 give one resource_id.)
    SELECT DISTINCT source_file, r FROM _res_in
),
a AS (
    SELECT *, otlp_attrs(r.resource.attributes) AS attributes FROM d
),
s AS (
    SELECT *, otlp_session_id(attributes, source_file) AS session_id FROM a
),
k AS (
    SELECT source_file, r, session_id,
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
    FROM s
)
SELECT i.res_key, i.source_file, i.line_no, i.signal, i.ridx, k.* EXCLUDE (source_file, r)
FROM _res_in i
JOIN k ON i.source_file = k.source_file AND i.r IS NOT DISTINCT FROM k.r;

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
