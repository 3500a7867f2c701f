-- Arrow reader: the columns of each resource of the batch (_res) that its records carry,
-- in key order (ingest_arrow.register_records takes them by res_key).
SELECT res_key, source_file, line_no, session_id, resource_id, service_name,
    pid AS resource_pid
FROM _res
ORDER BY res_key;
