-- The most recent session (by start time): what `swarmscope report` grades by default.
SELECT session_id FROM sessions ORDER BY start_time DESC NULLS LAST LIMIT 1;
