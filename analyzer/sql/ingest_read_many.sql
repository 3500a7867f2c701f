-- Fast path: clean OTLP JSON Lines files, read by one read_json (in parallel) with the
-- explicit structure from otlp.py ($COLUMNS). Parameter: the list of files. If anything on
-- any line does not fit, this fails and each file is tried alone, then line by line.
-- Insertion order is preserved, so each file's rows are contiguous and in line order.
INSERT INTO _raw
SELECT filename AS read_path, NULL AS line_no, resourceSpans, resourceMetrics, resourceLogs
FROM read_json(?, format = 'newline_delimited', columns = $COLUMNS,
               maximum_object_size = 536870912, filename = true);
