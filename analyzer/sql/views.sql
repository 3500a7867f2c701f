-- Views over the session model (schema.sql). Re-created on every connect, so they can change
-- without migrating data. String literals here are convention names (sdk/conventions.py);
-- a test checks each one exists there.

-- Runs of in-process agents, one row per run: frameworks' invoke_agent spans, and
-- OpenInference AGENT spans that name their agent (a workflow span does not). An in-process
-- agent is its name and its process: swarm.agent.id (<name>@<pid>) where swarmscope's span
-- processor labelled the span, else the name and the pid of the process that emitted it.
CREATE OR REPLACE VIEW inproc_runs AS
WITH candidates AS (
    SELECT s.*, r.pid AS resource_pid,
           coalesce(s.agent_name, s.attributes['agent.name']::VARCHAR,
                    s.attributes['graph.node.id']::VARCHAR,
                    CASE WHEN s.operation = 'invoke_agent'
                         THEN nullif(trim(regexp_replace(s.name, '^invoke_agent', '')), '')
                    END) AS run_agent
    FROM spans s
    LEFT JOIN resources r ON r.resource_id = s.resource_id
    WHERE coalesce(s.scope_name, '') <> 'swarmscope'
      AND (s.operation = 'invoke_agent'
           OR (s.operation IS NULL
               AND s.attributes['openinference.span.kind']::VARCHAR = 'AGENT'))
)
SELECT session_id, trace_id, span_id, parent_span_id, start_time, end_time, status_code,
       error_type, run_agent AS agent_name,
       coalesce(pid, resource_pid) AS pid,
       coalesce(agent_id,
                run_agent || '@' || coalesce(coalesce(pid, resource_pid)::VARCHAR, resource_id))
           AS agent_id,
       TRY_CAST(attributes['swarm.agent.run.cpu_time'] AS DOUBLE) AS cpu_s,
       coalesce(TRY_CAST(attributes['swarm.agent.run.retained_bytes'] AS DOUBLE),
                TRY_CAST(attributes['swarm.agent.run.retained_blocks'] AS DOUBLE)) AS retained,
       coalesce(TRY_CAST(attributes['swarm.agent.run.process_bytes'] AS DOUBLE),
                TRY_CAST(attributes['swarm.agent.run.process_blocks'] AS DOUBLE))
           AS process_heap,
       CASE WHEN attributes['swarm.agent.run.retained_bytes'] IS NOT NULL THEN 'By'
            WHEN attributes['swarm.agent.run.retained_blocks'] IS NOT NULL THEN '{block}'
       END AS memory_unit,
       TRY_CAST(attributes['swarm.agent.run.unattributed_steps'] AS BIGINT)
           AS unattributed_steps,
       coalesce(TRY_CAST(attributes['swarm.agent.run.memory_counted'] AS BOOLEAN), true)
           AS memory_counted,
       TRY_CAST(attributes['swarm.agent.allocation_sites'] AS VARCHAR[]) AS allocation_sites
FROM candidates
WHERE run_agent IS NOT NULL;

-- The spans agents are made of: swarmscope's lifecycle spans and in-process agents' runs
-- (inproc marks the latter).
CREATE OR REPLACE VIEW lifecycle_spans AS
SELECT session_id, agent_id, agent_name, operation, attributes, pid, parent_pid, span_id,
       parent_span_id, start_time, end_time, exit_code, termination_reason, exit_signal,
       status_code, error_type, false AS inproc
FROM spans
WHERE agent_id IS NOT NULL
  AND operation IN ('create_agent', 'invoke_agent', 'terminate_agent')
  AND NOT (operation = 'invoke_agent' AND coalesce(scope_name, '') <> 'swarmscope')
UNION ALL BY NAME
SELECT session_id, agent_id, agent_name, 'invoke_agent' AS operation, NULL AS attributes, pid,
       NULL AS parent_pid, span_id, parent_span_id, start_time, end_time,
       NULL AS exit_code, NULL AS termination_reason, NULL AS exit_signal, status_code,
       error_type, true AS inproc
FROM inproc_runs;

-- One row per agent of a session, from its lifecycle spans
-- (create_agent / invoke_agent / terminate_agent). In-process agents (kind inproc) have
-- runs only: their pid is the process they run in.
CREATE OR REPLACE VIEW agents AS
SELECT session_id,
       agent_id,
       coalesce(arg_min(agent_name, start_time) FILTER (operation = 'create_agent'),
                arg_min(agent_name, start_time)) AS agent_name,
       coalesce(arg_min(attributes['swarm.agent.kind']::VARCHAR, start_time)
                    FILTER (operation = 'create_agent'),
                CASE WHEN bool_or(inproc) THEN 'inproc' END) AS kind,
       coalesce(arg_min(pid, start_time) FILTER (operation = 'create_agent' AND pid IS NOT NULL),
                arg_min(pid, start_time) FILTER (inproc AND pid IS NOT NULL)) AS pid,
       arg_min(parent_pid, start_time)
           FILTER (operation = 'create_agent' AND parent_pid IS NOT NULL) AS parent_pid,
       arg_min(attributes['swarm.agent.role']::VARCHAR, start_time)
           FILTER (operation = 'create_agent') AS role,
       arg_min(span_id, start_time) FILTER (operation = 'create_agent') AS spawn_span_id,
       arg_min(parent_span_id, start_time)
           FILTER (operation = 'create_agent') AS spawn_parent_span_id,
       min(start_time) FILTER (operation = 'create_agent') AS spawn_time,
       max(end_time) FILTER (operation = 'terminate_agent') AS terminate_time,
       arg_max(exit_code, end_time) FILTER (operation = 'terminate_agent') AS exit_code,
       arg_max(termination_reason, end_time)
           FILTER (operation = 'terminate_agent') AS termination_reason,
       arg_max(exit_signal, end_time) FILTER (operation = 'terminate_agent') AS exit_signal,
       count(*) FILTER (operation = 'invoke_agent') AS task_count,
       count(*) FILTER (operation = 'invoke_agent'
                        AND (status_code = 'ERROR' OR error_type IS NOT NULL)) AS failed_tasks,
       min(start_time) FILTER (operation = 'invoke_agent') AS first_task_time,
       max(end_time) FILTER (operation = 'invoke_agent') AS last_task_time
FROM lifecycle_spans
GROUP BY session_id, agent_id;

-- One row per session: when it ran, what it was configured as, how many agents it had.
CREATE OR REPLACE VIEW sessions AS
WITH times AS (
    SELECT session_id, min(start_time) AS t0, max(end_time) AS t1,
           count(*) AS spans, 0 AS points, 0 AS logs
    FROM spans GROUP BY session_id
    UNION ALL
    SELECT session_id, min(coalesce(start_ts, ts)), max(ts), 0, count(*), 0
    FROM metric_points GROUP BY session_id
    UNION ALL
    SELECT session_id, min(ts), max(ts), 0, 0, count(*)
    FROM logs GROUP BY session_id
),
span_range AS (
    SELECT session_id, min(t0) AS start_time, max(t1) AS end_time,
           sum(spans)::BIGINT AS span_count, sum(points)::BIGINT AS metric_point_count,
           sum(logs)::BIGINT AS log_count
    FROM times GROUP BY session_id
),
config AS (
    SELECT session_id,
           -- the orchestrator's resource carries the configuration; prefer it
           arg_min(service_name, CASE WHEN topology IS NULL THEN 1 ELSE 0 END) AS service_name,
           max(topology) AS topology, max(strategy) AS strategy,
           max(max_agents) AS max_agents, max(persistence) AS persistence,
           max(host_name) AS host_name, max(cpu_count) AS cpu_count,
           max(memory_total) AS memory_total,
           count(DISTINCT pid) AS process_count
    FROM resources GROUP BY session_id
),
agent_counts AS (
    SELECT session_id, count(*) AS agent_count FROM agents GROUP BY session_id
)
SELECT r.session_id,
       c.service_name,
       r.start_time,
       r.end_time,
       epoch_ns(r.end_time) - epoch_ns(r.start_time) AS duration_ns,
       (epoch_ns(r.end_time) - epoch_ns(r.start_time)) / 1e9 AS duration_s,
       c.topology, c.strategy, c.max_agents, c.persistence,
       c.host_name, c.cpu_count, c.memory_total,
       coalesce(a.agent_count, 0) AS agent_count,
       r.span_count, r.metric_point_count, r.log_count
FROM span_range r
LEFT JOIN config c USING (session_id)
LEFT JOIN agent_counts a USING (session_id);

-- Metric points attributed to agents: a point belongs to an agent when it carries the
-- agent's id (swarm.agent.id, else gen_ai.agent.id), or else when its pid is the pid the
-- agent was spawned with
-- (ASOF: the latest spawn of that pid at or before the point, so reused pids attribute
-- correctly). after_terminate marks points taken after the agent's terminate span ended.
CREATE OR REPLACE VIEW agent_samples AS
WITH lifetimes AS (
    SELECT session_id, agent_id, agent_name, pid, spawn_time, terminate_time FROM agents
),
spawned AS (
    SELECT session_id, pid, spawn_time, agent_id FROM lifetimes
    WHERE pid IS NOT NULL AND spawn_time IS NOT NULL
),
by_pid AS (
    SELECT m.*, s.agent_id AS pid_agent_id
    FROM (SELECT * FROM metric_points WHERE agent_id IS NULL AND pid IS NOT NULL) m
    ASOF JOIN spawned s
      ON m.session_id = s.session_id AND m.pid = s.pid AND m.ts >= s.spawn_time
),
attributed AS (
    SELECT *, agent_id AS owner_id FROM metric_points WHERE agent_id IS NOT NULL
    UNION ALL BY NAME
    SELECT * EXCLUDE (pid_agent_id), pid_agent_id AS owner_id FROM by_pid
)
SELECT p.session_id,
       p.owner_id AS agent_id,
       l.agent_name,
       p.pid,
       p.metric_name,
       p.type,
       p.unit,
       p.ts,
       p.value,
       p.value_int,
       p.value_double,
       p.count,
       p.sum,
       p.attributes,
       l.spawn_time,
       l.terminate_time,
       (epoch_ns(p.ts) - epoch_ns(l.spawn_time)) / 1e9 AS since_spawn_s,
       coalesce(p.ts > l.terminate_time, false) AS after_terminate,
       p.resource_id
FROM attributed p
JOIN lifetimes l ON l.session_id = p.session_id AND l.agent_id = p.owner_id;

-- Processes left behind after agents terminated: the orphan / zombie events recorded on
-- cleanup audit spans (audit_cleanup), one row per event.
CREATE OR REPLACE VIEW cleanup_events AS
WITH ev AS (
    SELECT session_id, trace_id, span_id, name AS span_name, unnest(events) AS e
    FROM spans
    WHERE len(events) > 0
)
SELECT session_id,
       trace_id,
       span_id,
       span_name,
       e.name AS event_name,
       CASE e.name WHEN 'swarm.process.orphan' THEN 'orphan' ELSE 'zombie' END AS problem,
       e.time AS ts,
       e.attributes['process.pid']::BIGINT AS pid,
       e.attributes['process.parent_pid']::BIGINT AS parent_pid,
       coalesce(e.attributes['swarm.agent.id'], e.attributes['gen_ai.agent.id'])::VARCHAR
           AS agent_id,
       e.attributes['process.command_line']::VARCHAR AS command_line,
       e.attributes['process.executable.name']::VARCHAR AS executable_name,
       e.attributes['swarm.process.age']::DOUBLE AS age_s,
       e.attributes['swarm.process.parent_name']::VARCHAR AS parent_name,
       TRY_CAST(e.attributes['swarm.process.zombie_seconds'] AS DOUBLE) AS zombie_s,
       e.attributes AS attributes
FROM ev
WHERE e.name IN ('swarm.process.orphan', 'swarm.process.zombie');

-- Hung processes: one row per swarm.process.hung event of a cleanup audit - a live process
-- blocked reading a pipe or socket whose other end is still held open, without CPU or input.
CREATE OR REPLACE VIEW hung_events AS
WITH ev AS (
    SELECT session_id, trace_id, span_id, unnest(events) AS e
    FROM spans
    WHERE len(events) > 0
)
SELECT session_id,
       trace_id,
       span_id,
       e.time AS ts,
       TRY_CAST(e.attributes['process.pid'] AS BIGINT) AS pid,
       coalesce(e.attributes['swarm.agent.id'], e.attributes['gen_ai.agent.id'])::VARCHAR
           AS agent_id,
       e.attributes['swarm.process.waiting_on']::VARCHAR AS waiting_on,
       TRY_CAST(e.attributes['swarm.process.wait_fd'] AS BIGINT) AS wait_fd,
       TRY_CAST(e.attributes['swarm.process.idle_seconds'] AS DOUBLE) AS idle_s,
       TRY_CAST(e.attributes['swarm.process.holder_pid'] AS BIGINT) AS holder_pid,
       e.attributes AS attributes
FROM ev
WHERE e.name = 'swarm.process.hung';
