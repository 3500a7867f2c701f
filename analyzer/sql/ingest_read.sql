-- Fast path: one file of clean OTLP JSON Lines (the lines of one or several data files one
-- after the other), read by read_json with the explicit structure of ingest_shape.sql
-- (otlp_columns).
-- Parameter: the file. If anything on any line does not fit, this fails and the files are
-- tried alone, then line by line. Insertion order is preserved: rows keep the line order.
INSERT INTO _raw
SELECT filename AS read_path, NULL AS line_no, resourceSpans, resourceMetrics, resourceLogs
FROM read_json(?, format = 'newline_delimited', columns = otlp_columns(),
               maximum_object_size = 536870912, filename = true);
