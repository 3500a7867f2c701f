-- The agents of a list of sessions ($sessions VARCHAR[]), from the `agents` view.
SELECT session_id,
       agent_id,
       agent_name,
       kind,
       pid,
       epoch_ns(spawn_time) AS spawn_ns,
       epoch_ns(terminate_time) AS terminate_ns,
       exit_code,
       termination_reason,
       task_count,
       failed_tasks,
       epoch_ns(first_task_time) AS first_task_ns,
       role,
       parent_pid,
       spawn_span_id AS span_id,
       spawn_parent_span_id AS parent_span_id
FROM agents
WHERE list_contains($sessions, session_id)
ORDER BY session_id, spawn_time NULLS LAST, agent_id;
