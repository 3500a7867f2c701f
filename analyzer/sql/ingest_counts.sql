-- How many records the batch (_docs) holds, counted without flattening it, and how many
-- were stored with a warning (otlp_*_warning): when the rows stored match and there is no
-- warning, nothing was left out and ingest_problems.sql need not run.
SELECT
    count(*) FILTER (WHERE coalesce(len(resourceSpans), 0) + coalesce(len(resourceMetrics), 0)
                           + coalesce(len(resourceLogs), 0) = 0) AS empty_lines,
    coalesce(sum(list_sum(list_transform(resourceSpans,
        r -> coalesce(list_sum(list_transform(r.scopeSpans, sc -> len(sc.spans))), 0)))), 0)
        AS spans,
    coalesce(sum(list_sum(list_transform(resourceMetrics,
        r -> coalesce(list_sum(list_transform(r.scopeMetrics,
            sc -> coalesce(list_sum(list_transform(sc.metrics,
                m -> len(coalesce(m.gauge.dataPoints, m.sum.dataPoints, m.histogram.dataPoints,
                                  m.exponentialHistogram.dataPoints, m.summary.dataPoints,
                                  [])))), 0))), 0)))), 0) AS points,
    coalesce(sum(list_sum(list_transform(resourceMetrics,
        r -> coalesce(list_sum(list_transform(r.scopeMetrics,
            sc -> coalesce(list_sum(list_transform(sc.metrics,
                m -> CASE WHEN m.name IS NULL OR otlp_metric_type(m) IS NULL
                          THEN 1 ELSE 0 END)), 0))), 0)))), 0) AS unknown_metrics,
    coalesce(sum(list_sum(list_transform(resourceLogs,
        r -> coalesce(list_sum(list_transform(r.scopeLogs, sc -> len(sc.logRecords))), 0)))), 0)
        AS logs,
    coalesce(sum(list_sum(list_transform(resourceSpans,
        r -> coalesce(list_sum(list_transform(r.scopeSpans, sc -> list_sum(list_transform(
            sc.spans, s -> (otlp_span_warning(s) IS NOT NULL)::INTEGER)))), 0)))), 0)
    + coalesce(sum(list_sum(list_transform(resourceMetrics,
        r -> coalesce(list_sum(list_transform(r.scopeMetrics,
            sc -> coalesce(list_sum(list_transform(sc.metrics,
                m -> list_sum(list_transform(coalesce(m.gauge.dataPoints, m.sum.dataPoints,
                        m.histogram.dataPoints, m.exponentialHistogram.dataPoints,
                        m.summary.dataPoints, []),
                    p -> (otlp_point_warning(m.name, p) IS NOT NULL)::INTEGER)))), 0))), 0)))),
        0)
    + coalesce(sum(list_sum(list_transform(resourceLogs,
        r -> coalesce(list_sum(list_transform(r.scopeLogs, sc -> list_sum(list_transform(
            sc.logRecords, l -> (otlp_log_warning(l) IS NOT NULL)::INTEGER)))), 0)))), 0)
        AS warnings
FROM _docs;
