-- Which signals each file of the batch holds (traces, metrics, logs).
SELECT source_file,
    bool_or(resourceSpans IS NOT NULL) AS traces,
    bool_or(resourceMetrics IS NOT NULL) AS metrics,
    bool_or(resourceLogs IS NOT NULL) AS logs
FROM _docs
GROUP BY source_file;
