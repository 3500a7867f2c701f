-- Per-batch scratch tables (temporary, this connection only).
CREATE OR REPLACE TEMP TABLE _lines (source_file VARCHAR, line_no BIGINT, line VARCHAR);
CREATE OR REPLACE TEMP TABLE _docs AS
SELECT ''::VARCHAR AS source_file, 0::BIGINT AS line_no,
       d.resourceSpans, d.resourceMetrics, d.resourceLogs
FROM (SELECT json_transform('{}', $DOCUMENT) AS d) WHERE false;
