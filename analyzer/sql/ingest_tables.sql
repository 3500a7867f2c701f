-- Per-batch scratch tables (temporary, this connection only).
--   _lines         careful path: each line of a file as text
--   _raw           records as read; line_no is set by the careful path only: read_json's
--                  rows come in file order, so a fast-path row's line number follows from
--                  its rowid
--   _batch_files   what each file read holds: from which of its rows (row_start, row_count)
--                  which data file, starting at which line number; the rowids of _raw that
--                  are those rows (ingest_line_map.sql)
--   _docs          the batch as the ingest steps read it: source_file, line_no, the three
--                  signal lists
CREATE OR REPLACE TEMP TABLE _lines (source_file VARCHAR, line_no BIGINT, line VARCHAR);
CREATE OR REPLACE TEMP TABLE _raw AS
SELECT ''::VARCHAR AS read_path, 0::BIGINT AS line_no,
       d.resourceSpans, d.resourceMetrics, d.resourceLogs
FROM (SELECT json_transform('{}', otlp_document_structure()) AS d) WHERE false;
CREATE OR REPLACE TEMP TABLE _batch_files (
    read_path VARCHAR, source_file VARCHAR, first_line BIGINT, row_start BIGINT,
    row_count BIGINT, start_rowid BIGINT, end_rowid BIGINT);
-- _batch_files is tiny, so it is the build side of this join and the records of _raw
-- stream through without being copied.
CREATE OR REPLACE TEMP VIEW _docs AS
SELECT f.source_file,
       coalesce(r.line_no, r.rowid - f.start_rowid + f.first_line) AS line_no,
       r.resourceSpans, r.resourceMetrics, r.resourceLogs
FROM _raw r JOIN _batch_files f
  ON r.read_path = f.read_path AND r.rowid BETWEEN f.start_rowid AND f.end_rowid;
