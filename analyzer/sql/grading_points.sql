-- Every metric point grading reads, for a list of sessions, oldest first.
-- Parameters (names come from swarmscope.conventions, never spelled here):
--   $sessions  VARCHAR[]  the sessions to load
--   $metrics   VARCHAR[]  the metric names grading uses
--   $keys      VARCHAR[]  point attributes that tell series of one metric apart
--                         (cpu.mode, cpython.gc.generation, system.memory.state, process.state,
--                         process.context_switch.type);
--                         the first one present becomes `key`
--   $summed    VARCHAR[]  metrics whose series are parts of one figure (process.cpu.utilization
--                         per cpu.mode): their points of one process at one time are summed
--                         into one point without a key, so user + system read as the total
--   $from_ns   BIGINT[]   per session (same order): the first time to load, NULL for all (a
--                         report of a long session's last hour reads only that hour)
--   $earliest_ns BIGINT   the earliest of them, NULL when one of them is
--   $step_ns   BIGINT[]   per session: NULL reads every point; a step reads each series as
--                         a sampler with that interval would have recorded it (a session
--                         over the point budget, point_budget.point_steps): per step the last
--                         point, the mean of the $averaged metrics, the sum of DELTA sums
--   $averaged  VARCHAR[]  gauges measured over the sampling interval (process.cpu.utilization):
--                         a longer interval's value is their mean
-- value: gauge / sum value, or the running sum of a histogram (GC pause seconds);
-- cumulative: not a DELTA sum.
-- session_ix / metric_ix: 1-based positions in $sessions / $metrics; rows come grouped by
-- them, in time order inside a group, so the loader cuts groups without a string per row.
-- NOT MATERIALIZED: each CTE is read twice, and DuckDB would otherwise hold every point of
-- it in memory first (a 3 h session of 100 processes: 9.6 GB instead of 5.6 GB at the peak).
WITH points AS NOT MATERIALIZED (
    SELECT list_position($sessions, session_id) AS session_ix,
           list_position($metrics, metric_name) AS metric_ix,
           metric_name,
           coalesce(pid, -1) AS pid,
           agent_id,
           epoch_ns(ts) AS ts_ns,
           coalesce(value, sum) AS value,
           coalesce(temporality, '') <> 'DELTA' AS cumulative,
           coalesce(attributes[$keys[1]]::VARCHAR, attributes[$keys[2]]::VARCHAR,
                    attributes[$keys[3]]::VARCHAR, attributes[$keys[4]]::VARCHAR,
                    attributes[$keys[5]]::VARCHAR) AS key,
           list_contains($averaged, metric_name) AS averaged
    FROM metric_points
    WHERE list_contains($sessions, session_id)
      AND list_contains($metrics, metric_name)
      -- a constant bound on the column itself: the scan skips older row groups (and their
      -- attribute maps) instead of reading the whole table to filter it
      AND ($earliest_ns IS NULL OR ts >= make_timestamp_ns($earliest_ns))
      AND epoch_ns(ts) >= coalesce($from_ns[list_position($sessions, session_id)],
                                   epoch_ns(ts))
),
every AS NOT MATERIALIZED (
    SELECT * EXCLUDE (metric_name) FROM points WHERE NOT list_contains($summed, metric_name)
    UNION ALL
    SELECT session_ix, metric_ix, pid, agent_id, ts_ns, sum(value) AS value,
           any_value(cumulative) AS cumulative, NULL::VARCHAR AS key,
           any_value(averaged) AS averaged
    FROM points WHERE list_contains($summed, metric_name)
    GROUP BY session_ix, metric_ix, pid, agent_id, ts_ns
)
SELECT * EXCLUDE (averaged) FROM every WHERE $step_ns[session_ix] IS NULL
UNION ALL
-- a session over the budget: one point per series and step, at the step's last time
SELECT session_ix, metric_ix, pid, agent_id, max(ts_ns) AS ts_ns,
       CASE WHEN NOT any_value(cumulative) THEN sum(value)
            WHEN any_value(averaged) THEN avg(value)
            ELSE arg_max(value, ts_ns) END AS value,
       any_value(cumulative) AS cumulative, key
FROM every WHERE $step_ns[session_ix] IS NOT NULL
GROUP BY session_ix, metric_ix, pid, agent_id, key, ts_ns // $step_ns[session_ix]
ORDER BY session_ix, metric_ix, ts_ns;
