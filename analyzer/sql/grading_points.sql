-- Every metric point grading reads, for a list of sessions, oldest first.
-- Parameters (names come from swarmscope.conventions, never spelled here):
--   $sessions  VARCHAR[]  the sessions to load
--   $metrics   VARCHAR[]  the metric names grading uses
--   $keys      VARCHAR[]  point attributes that tell series of one metric apart
--                         (cpu.mode, cpython.gc.generation, system.memory.state, process.state,
--                         process.context_switch.type);
--                         the first one present becomes `key`
--   $summed    VARCHAR[]  metrics whose series are parts of one figure (process.cpu.utilization
--                         per cpu.mode): their points of one process at one time are summed
--                         into one point without a key, so user + system read as the total
-- value: gauge / sum value, or the running sum of a histogram (GC pause seconds).
WITH points AS (
    SELECT session_id,
           metric_name,
           coalesce(pid, -1) AS pid,
           agent_id,
           epoch_ns(ts) AS ts_ns,
           coalesce(value, sum) AS value,
           temporality,
           coalesce(attributes[$keys[1]]::VARCHAR, attributes[$keys[2]]::VARCHAR,
                    attributes[$keys[3]]::VARCHAR, attributes[$keys[4]]::VARCHAR,
                    attributes[$keys[5]]::VARCHAR) AS key
    FROM metric_points
    WHERE list_contains($sessions, session_id)
      AND list_contains($metrics, metric_name)
)
SELECT * FROM points WHERE NOT list_contains($summed, metric_name)
UNION ALL
SELECT session_id, metric_name, pid, agent_id, ts_ns, sum(value) AS value,
       any_value(temporality) AS temporality, NULL::VARCHAR AS key
FROM points WHERE list_contains($summed, metric_name)
GROUP BY session_id, metric_name, pid, agent_id, ts_ns
ORDER BY session_id, ts_ns;
