-- One skipped line or record. Parameters: file, line number (or NULL), reason, time.
INSERT INTO ingest_errors VALUES (?, ?, ?, ?);
