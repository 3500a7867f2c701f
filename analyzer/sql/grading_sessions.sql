-- Session facts for the report's technical details ($sessions VARCHAR[]), from `sessions`
-- plus the runtimes its processes ran on ($runtime_name, $runtime_version, $os_type: each
-- name with its own version, e.g. "cpython 3.11.7, nodejs 20.20.2" - a session of Python and
-- Node processes has both), how many cleanup audits ($audit_span spans) ran, and how often
-- their watchers lost kernel process events ($event_overruns).
SELECT s.session_id,
       s.service_name,
       epoch_ns(s.start_time) AS start_ns,
       epoch_ns(s.end_time) AS end_ns,
       s.duration_s,
       s.topology, s.strategy, s.max_agents, s.persistence,
       s.host_name, s.cpu_count, s.memory_total,
       s.agent_count, s.span_count, s.metric_point_count, s.log_count,
       (SELECT string_agg(DISTINCT r.attributes[$runtime_name]::VARCHAR, ', '
                          ORDER BY r.attributes[$runtime_name]::VARCHAR)
          FROM resources r WHERE r.session_id = s.session_id) AS runtime_name,
       (SELECT string_agg(DISTINCT concat_ws(' ', r.attributes[$runtime_name]::VARCHAR,
                                             r.attributes[$runtime_version]::VARCHAR), ', '
                          ORDER BY concat_ws(' ', r.attributes[$runtime_name]::VARCHAR,
                                             r.attributes[$runtime_version]::VARCHAR))
          FROM resources r WHERE r.session_id = s.session_id
           AND r.attributes[$runtime_version] IS NOT NULL) AS runtime_version,
       (SELECT max(r.attributes[$os_type]::VARCHAR) FROM resources r
         WHERE r.session_id = s.session_id) AS os_type,
       (SELECT count(*) FROM spans sp
         WHERE sp.session_id = s.session_id AND sp.name = $audit_span) AS audit_spans,
       (SELECT sum(TRY_CAST(sp.attributes[$event_overruns] AS BIGINT)) FROM spans sp
         WHERE sp.session_id = s.session_id AND sp.name = $audit_span) AS process_event_overruns
FROM sessions s
WHERE list_contains($sessions, s.session_id)
ORDER BY s.start_time;
