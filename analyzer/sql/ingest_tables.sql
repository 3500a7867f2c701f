-- Per-batch scratch tables (temporary, this connection only).
--   _lines         careful path: each line of a file as text
--   _raw           records as read; line_no is set by the careful path only: read_json's
--                  rows come in file order, so a fast-path row's line number follows from
--                  its rowid (ingest_line_map.sql)
--   _batch_files   what each file read holds: from which of its rows (row_start) which data
--                  file, starting at which line number
--   _line_map      rowid of _raw -> data file and line
--   _docs          the batch as the ingest steps read it: source_file, line_no, the three
--                  signal lists
CREATE OR REPLACE TEMP TABLE _lines (source_file VARCHAR, line_no BIGINT, line VARCHAR);
CREATE OR REPLACE TEMP TABLE _raw AS
SELECT ''::VARCHAR AS read_path, 0::BIGINT AS line_no,
       d.resourceSpans, d.resourceMetrics, d.resourceLogs
FROM (SELECT json_transform('{}', $DOCUMENT) AS d) WHERE false;
CREATE OR REPLACE TEMP TABLE _batch_files (
    read_path VARCHAR, source_file VARCHAR, first_line BIGINT, row_start BIGINT);
CREATE OR REPLACE TEMP TABLE _line_map (rid BIGINT, source_file VARCHAR, line_no BIGINT);
CREATE OR REPLACE TEMP VIEW _docs AS
SELECT m.source_file, m.line_no, r.resourceSpans, r.resourceMetrics, r.resourceLogs
FROM _raw r JOIN _line_map m ON r.rowid = m.rid;
