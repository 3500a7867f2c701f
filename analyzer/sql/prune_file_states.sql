-- What the database holds of each file (prune.py): a file may go only when all of it is held.
SELECT path, head_sha256, head_len, byte_offset, format
FROM ingested_files;
