-- Hung processes of a list of sessions ($sessions VARCHAR[]), from `hung_events`.
SELECT session_id,
       pid,
       agent_id,
       waiting_on,
       idle_s,
       holder_pid,
       epoch_ns(ts) AS ts_ns
FROM hung_events
WHERE list_contains($sessions, session_id)
ORDER BY session_id, ts, pid;
