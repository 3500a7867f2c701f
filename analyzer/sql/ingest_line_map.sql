-- Which rows of _raw belong to which data file. Fast-path rows are the k-th rows of their
-- read_path in insertion order (rowids follow it): a data file's rows start at the first
-- rowid of its read_path plus its row_start. Careful-path rows carry their own line number
-- and all rows of their read_path belong to the one data file.
UPDATE _batch_files f
SET start_rowid = b.base + coalesce(f.row_start, 0),
    end_rowid = CASE WHEN f.row_count IS NULL THEN b.last
                     ELSE b.base + f.row_start + f.row_count - 1 END
FROM (SELECT read_path, min(rowid) AS base, max(rowid) AS last FROM _raw GROUP BY read_path) b
WHERE f.read_path = b.read_path;
