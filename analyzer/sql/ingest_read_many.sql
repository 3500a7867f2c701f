-- Fast path for several clean files at once (one read_json, one bind of the structure):
-- _batch_files maps each file read (read_path) to the file it stands for and the line number
-- its first line has. Rows come in file order, so a file's lines are numbered from its first
-- row. Parameter: the list of files to read.
INSERT INTO _docs
WITH r AS (
    SELECT filename, row_number() OVER () AS rn, resourceSpans, resourceMetrics, resourceLogs
    FROM read_json(?, format = 'newline_delimited', columns = $COLUMNS,
                   maximum_object_size = 536870912, filename = true)
)
SELECT f.source_file,
       (r.rn - min(r.rn) OVER (PARTITION BY r.filename) + f.first_line)::BIGINT AS line_no,
       r.resourceSpans, r.resourceMetrics, r.resourceLogs
FROM r JOIN _batch_files f ON f.read_path = r.filename;
