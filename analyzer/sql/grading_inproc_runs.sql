-- The runs of in-process agents for a list of sessions ($sessions VARCHAR[]), from the
-- inproc_runs view, each agent's runs in the order they ended.
SELECT session_id,
       agent_id,
       agent_name,
       pid,
       epoch_ns(start_time) AS start_ns,
       epoch_ns(end_time) AS end_ns,
       (status_code = 'ERROR' OR error_type IS NOT NULL) AS failed,
       cpu_s,
       retained,
       process_heap,
       memory_unit,
       unattributed_steps,
       memory_counted,
       allocation_sites
FROM inproc_runs
WHERE list_contains($sessions, session_id)
ORDER BY session_id, agent_id, end_time, span_id;
