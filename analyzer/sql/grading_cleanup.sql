-- Orphan / zombie records of a list of sessions ($sessions VARCHAR[]), from `cleanup_events`.
SELECT session_id,
       problem,
       pid,
       parent_pid,
       agent_id,
       coalesce(command_line, executable_name) AS command,
       age_s,
       epoch_ns(ts) AS ts_ns,
       parent_name,
       zombie_s
FROM cleanup_events
WHERE list_contains($sessions, session_id)
ORDER BY session_id, ts, pid;
