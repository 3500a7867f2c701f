-- Where this run stopped in each file of a group, one statement for the whole group (a
-- prepared insert per file costs ~2 ms each). Parameters: parallel lists of path,
-- generation, head_sha256, head_len, byte_offset, line_count, format, signal, first_ingest;
-- then the time of this run.
INSERT OR REPLACE INTO ingested_files
SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),
    unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::TIMESTAMP[]), ?::TIMESTAMP;
