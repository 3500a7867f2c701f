-- A file read that failed: forget what it was to hold. Parameter: the file read.
DELETE FROM _batch_files WHERE read_path = ?;
