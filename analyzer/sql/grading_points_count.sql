-- How many metric points grading_points.sql would read per session, from how many series,
-- over what time: the point budget ([points] in control_points.toml) decides from these
-- whether a session is read point by point or one point per step (point_budget.point_steps).
-- Parameters as grading_points.sql ($sessions, $metrics, $from_ns, $earliest_ns). Only
-- plain columns are read (no attribute map), so this costs a fraction of the read itself;
-- the series are told apart by metric and pid, not by their keys (cpu.mode, gc generation).
SELECT session_id,
       count(*) AS points,
       approx_count_distinct(hash(metric_name, pid, agent_id)) AS series,
       max(epoch_ns(ts)) - min(epoch_ns(ts)) AS span_ns
FROM metric_points
WHERE list_contains($sessions, session_id)
  AND list_contains($metrics, metric_name)
  AND ($earliest_ns IS NULL OR ts >= make_timestamp_ns($earliest_ns))
  AND epoch_ns(ts) >= coalesce($from_ns[list_position($sessions, session_id)], epoch_ns(ts))
GROUP BY session_id;
