-- Sessions whose id equals or starts with $prefix (users type a short prefix).
SELECT session_id FROM sessions WHERE starts_with(session_id, $prefix) ORDER BY start_time;
