-- Fast path: one file region of clean OTLP JSON Lines, read by read_json with the explicit
-- structure from otlp.py ($COLUMNS). Parameters: source file, first line number, file to read.
-- If anything on any line does not fit, this fails and the careful path (ingest_parse) runs.
INSERT INTO _docs
SELECT ?::VARCHAR AS source_file,
       (row_number() OVER () + ? - 1)::BIGINT AS line_no,
       resourceSpans, resourceMetrics, resourceLogs
FROM read_json(?, format = 'newline_delimited', columns = $COLUMNS,
               maximum_object_size = 536870912);
