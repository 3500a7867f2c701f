-- Live alerts of a list of sessions ($sessions VARCHAR[]): the one swarm.alert event of each
-- swarm_alert span (docs/live.md), in the order they were raised.
WITH ev AS (
    SELECT session_id, unnest(events) AS e
    FROM spans
    WHERE name = 'swarm_alert' AND list_contains($sessions, session_id) AND len(events) > 0
)
SELECT session_id,
       epoch_ns(e.time) AS ts_ns,
       e.attributes['swarm.alert.condition']::VARCHAR AS condition,
       e.attributes['swarm.alert.message']::VARCHAR AS message,
       TRY_CAST(e.attributes['swarm.alert.value'] AS DOUBLE) AS value,
       TRY_CAST(e.attributes['swarm.alert.threshold'] AS DOUBLE) AS threshold,
       e.attributes['swarm.alert.unit']::VARCHAR AS unit,
       TRY_CAST(e.attributes['process.pid'] AS BIGINT) AS pid,
       e.attributes['swarm.agent.id']::VARCHAR AS agent_id,
       e.attributes['gen_ai.agent.name']::VARCHAR AS agent_name
FROM ev
WHERE e.name = 'swarm.alert'
ORDER BY session_id, ts_ns, pid;
