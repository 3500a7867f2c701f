-- Arrow reader: every resource of the batch (_arrow_res, registered by ingest_arrow.py)
-- with its key (res_key, which the records name), line, signal and position in the line
-- (ridx), for ingest_resources.sql.
CREATE OR REPLACE TEMP VIEW _res_in AS
SELECT res_key, source_file::VARCHAR AS source_file, line_no, signal, ridx,
    {'resource': resource, 'schema_url': schema_url} AS r
FROM _arrow_res;
