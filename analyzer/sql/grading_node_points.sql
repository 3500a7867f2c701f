-- The Node.js runtime series grading reads (written by the preload), for a list of sessions,
-- in the columns of grading_points.sql so they load the same way.
-- Parameters (names come from swarmscope.conventions, never spelled here):
--   $sessions     VARCHAR[]  the sessions to load
--   $heap         VARCHAR    v8js.memory.heap.used: summed over heap spaces per process and time
--   $gc           VARCHAR    v8js.gc.duration: running sum of GC seconds, per gc type (key)
--   $gc_count     VARCHAR    the series name under which the GC counts per gc type come out
--   $gc_type      VARCHAR    v8js.gc.type
--   $loop         VARCHAR[]  event-loop gauges read as they are (nodejs.eventloop.delay.*)
--   $series       VARCHAR[]  every series name this query emits; metric_ix is a position in it
--   $from_ns      BIGINT[]   per session: the first time to load, NULL for all
--   $earliest_ns  BIGINT     the earliest of them, NULL when one of them is
-- Agent: a Node process inherits SWARMSCOPE_AGENT_ID from whoever started it, so the workers a
-- Node program forks carry their parent's agent id. When the process itself was recorded as
-- an agent (the watcher records every process of the tree), its points belong to that agent:
-- the latest agent spawned with the point's pid at or before the point (1 s of slack, as the
-- spawn span may end a little after the first sample).
WITH points AS (
    SELECT session_id, metric_name, coalesce(pid, -1) AS pid, agent_id, ts,
           epoch_ns(ts) AS ts_ns, value, sum, count, temporality,
           attributes[$gc_type]::VARCHAR AS gc_type
    FROM metric_points
    WHERE list_contains($sessions, session_id)
      AND (metric_name IN ($heap, $gc) OR list_contains($loop, metric_name))
      -- a constant bound on the column itself: the scan skips older row groups (and their
      -- attribute maps) instead of reading the whole table to filter it
      AND ($earliest_ns IS NULL OR ts >= make_timestamp_ns($earliest_ns))
      AND epoch_ns(ts) >= coalesce($from_ns[list_position($sessions, session_id)],
                                   epoch_ns(ts))
),
spawned AS (
    SELECT session_id, pid, agent_id, spawn_time
    FROM agents
    WHERE list_contains($sessions, session_id) AND pid IS NOT NULL AND spawn_time IS NOT NULL
),
owned AS (
    SELECT p.* EXCLUDE (agent_id), coalesce(s.agent_id, p.agent_id) AS agent_id
    FROM points p
    ASOF LEFT JOIN spawned s
      ON p.session_id = s.session_id AND p.pid = s.pid
     AND p.ts + INTERVAL 1 SECOND >= s.spawn_time
),
series AS (
SELECT session_id, metric_name, pid, agent_id, ts_ns, sum(value) AS value,
       any_value(temporality) AS temporality, NULL::VARCHAR AS key
FROM owned WHERE metric_name = $heap
GROUP BY session_id, metric_name, pid, agent_id, ts_ns
UNION ALL
SELECT session_id, metric_name, pid, agent_id, ts_ns, sum AS value, temporality,
       gc_type AS key
FROM owned WHERE metric_name = $gc
UNION ALL
SELECT session_id, $gc_count AS metric_name, pid, agent_id, ts_ns, count::DOUBLE AS value,
       temporality, gc_type AS key
FROM owned WHERE metric_name = $gc
UNION ALL
SELECT session_id, metric_name, pid, agent_id, ts_ns, value, temporality, NULL::VARCHAR AS key
FROM owned WHERE list_contains($loop, metric_name)
)
SELECT list_position($sessions, session_id) AS session_ix,
       list_position($series, metric_name) AS metric_ix,
       pid, agent_id, ts_ns, value,
       coalesce(temporality, '') <> 'DELTA' AS cumulative, key
FROM series
ORDER BY session_ix, metric_ix, ts_ns;
