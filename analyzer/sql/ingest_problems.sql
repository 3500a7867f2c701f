-- What in the batch (_docs) cannot be stored, by file and line: lines with no OTLP content,
-- metrics of an unknown type, spans / points / log records that fail their checks, and
-- those stored with a warning (a value stored as NULL or as the zero value).
WITH rs AS (
    SELECT source_file, line_no, unnest(sc.spans) AS s
    FROM (SELECT source_file, line_no, unnest(flatten(list_transform(resourceSpans, r -> r.scopeSpans))) AS sc
          FROM _docs WHERE resourceSpans IS NOT NULL)
),
rm AS (
    SELECT source_file, line_no, unnest(sc.metrics) AS m
    FROM (SELECT source_file, line_no, unnest(flatten(list_transform(resourceMetrics, r -> r.scopeMetrics))) AS sc
          FROM _docs WHERE resourceMetrics IS NOT NULL)
),
rl AS (
    SELECT source_file, line_no, unnest(sc.logRecords) AS l
    FROM (SELECT source_file, line_no, unnest(flatten(list_transform(resourceLogs, r -> r.scopeLogs))) AS sc
          FROM _docs WHERE resourceLogs IS NOT NULL)
),
pts AS (
    SELECT source_file, line_no, m.name AS metric_name,
        unnest(coalesce(m.gauge.dataPoints, m.sum.dataPoints, m.histogram.dataPoints,
                        m.exponentialHistogram.dataPoints, m.summary.dataPoints)) AS p
    FROM rm WHERE otlp_metric_type(m) IS NOT NULL AND m.name IS NOT NULL
),
problems AS (
    SELECT source_file, line_no,
        'no resourceSpans, resourceMetrics or resourceLogs' AS problem
    FROM _docs
    WHERE coalesce(len(resourceSpans), 0) + coalesce(len(resourceMetrics), 0)
          + coalesce(len(resourceLogs), 0) = 0
    UNION ALL
    SELECT source_file, line_no, otlp_span_problem(s) FROM rs
    UNION ALL
    SELECT source_file, line_no, otlp_span_warning(s) FROM rs WHERE otlp_span_problem(s) IS NULL
    UNION ALL
    SELECT source_file, line_no,
        CASE WHEN m.name IS NULL THEN 'metric without a name'
             ELSE 'metric ' || m.name || ': no gauge, sum, histogram, exponentialHistogram'
                  || ' or summary data (unknown metric type)' END
    FROM rm WHERE m.name IS NULL OR otlp_metric_type(m) IS NULL
    UNION ALL
    SELECT source_file, line_no, otlp_point_problem(metric_name, p) FROM pts
    UNION ALL
    SELECT source_file, line_no, otlp_point_warning(metric_name, p) FROM pts
    WHERE otlp_point_problem(metric_name, p) IS NULL
    UNION ALL
    SELECT source_file, line_no, otlp_log_problem(l) FROM rl
    UNION ALL
    SELECT source_file, line_no, otlp_log_warning(l) FROM rl WHERE otlp_log_problem(l) IS NULL
)
SELECT source_file, line_no, problem, count(*) AS n
FROM problems WHERE problem IS NOT NULL
GROUP BY ALL ORDER BY source_file, line_no, problem;
