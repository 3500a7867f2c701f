-- Where the previous runs stopped in each file (one row per path; see ingest_files.py).
SELECT path, generation, head_sha256, head_len, byte_offset, line_count, format, first_ingest
FROM ingested_files;
