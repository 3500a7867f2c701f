-- Which data file and line each row of _raw came from. A row read by the fast path is the
-- k-th row of its read_path (rowids follow insertion order); _batch_files says which data
-- file starts at which row of that read_path (row_start) and with which line number. Rows of
-- the careful path carry their line number.
CREATE OR REPLACE TEMP TABLE _line_map AS
WITH base AS (
    SELECT read_path, min(rowid) AS base FROM _raw GROUP BY read_path
),
starts AS (
    SELECT f.read_path, f.source_file, f.first_line,
           b.base + coalesce(f.row_start, 0) AS start_rowid
    FROM _batch_files f JOIN base b USING (read_path)
)
SELECT r.rowid AS rid, s.source_file,
       coalesce(r.line_no, r.rowid - s.start_rowid + s.first_line) AS line_no
FROM (SELECT rowid, read_path, line_no FROM _raw) r
ASOF JOIN starts s ON r.read_path = s.read_path AND r.rowid >= s.start_rowid;
