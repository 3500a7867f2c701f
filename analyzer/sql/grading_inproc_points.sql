-- The last point of each per-agent metric of in-process agents, for a list of sessions.
-- Parameters (names come from swarmscope.conventions):
--   $sessions  VARCHAR[]  the sessions to load
--   $metrics   VARCHAR[]  per-agent metrics: CPU time, open runs, live threads
-- The last point of a process is taken as it shuts down: open runs then never finished.
SELECT session_id,
       agent_id,
       metric_name,
       arg_max(coalesce(value, sum), ts) AS last_value,
       epoch_ns(max(ts)) AS last_ns
FROM metric_points
WHERE list_contains($sessions, session_id)
  AND list_contains($metrics, metric_name)
  AND agent_id IS NOT NULL
GROUP BY session_id, agent_id, metric_name;
