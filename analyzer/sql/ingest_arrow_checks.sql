-- Arrow reader: how many records of the batch the SQL reader would leave out or store with a
-- warning (otlp_span_ok, otlp_*_problem, otlp_*_warning). Read from the few fields the
-- checks need (_arrow_check_*, registered by ingest_arrow.py); any is a reason to leave the
-- batch to the SQL reader, which reports them by file and line (ingest_problems.sql).
SELECT
    (SELECT count(*) FROM _arrow_check_traces
     WHERE NOT coalesce(otlp_span_ok(s), false) OR otlp_span_warning(s) IS NOT NULL)
    + (SELECT count(*) FROM _arrow_check_metrics
       WHERE otlp_point_problem('', p) IS NOT NULL OR otlp_point_warning('', p) IS NOT NULL)
    + (SELECT count(*) FROM _arrow_check_logs
       WHERE otlp_log_problem(l) IS NOT NULL OR otlp_log_warning(l) IS NOT NULL);
