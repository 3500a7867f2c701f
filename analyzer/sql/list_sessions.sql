-- `swarmscope sessions`: one line per session, newest first.
SELECT session_id,
       service_name,
       strftime(start_time, '%Y-%m-%d %H:%M:%S') AS started,
       round(duration_s, 1) AS duration_s,
       topology,
       strategy,
       agent_count AS agents,
       span_count AS spans,
       metric_point_count AS points,
       log_count AS logs
FROM sessions
ORDER BY start_time DESC NULLS LAST, session_id;
