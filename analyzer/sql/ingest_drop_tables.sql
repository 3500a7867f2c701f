-- After a group: drop the per-batch scratch tables (ingest_tables.sql, ingest_res_*.sql,
-- ingest_resources.sql).
DROP VIEW IF EXISTS _docs;
DROP TABLE IF EXISTS _lines;
DROP TABLE IF EXISTS _parsed;
DROP TABLE IF EXISTS _raw;
DROP TABLE IF EXISTS _batch_files;
DROP TABLE IF EXISTS _res;
DROP VIEW IF EXISTS _res_in;
DROP TABLE IF EXISTS _attr_maps;
