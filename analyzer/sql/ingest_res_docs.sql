-- SQL reader: every resource of the batch (_docs) with its line, signal and position in
-- the line (ridx), for ingest_resources.sql. (res_key is the Arrow reader's.)
CREATE OR REPLACE TEMP VIEW _res_in AS
SELECT NULL::BIGINT AS res_key, source_file, line_no, 'traces' AS signal,
    generate_subscripts(resourceSpans, 1) AS ridx,
    unnest(list_transform(resourceSpans, x -> {'resource': x.resource,
                                               'schema_url': x.schemaUrl})) AS r
FROM _docs WHERE resourceSpans IS NOT NULL
UNION ALL
SELECT NULL, source_file, line_no, 'metrics', generate_subscripts(resourceMetrics, 1),
    unnest(list_transform(resourceMetrics, x -> {'resource': x.resource,
                                                 'schema_url': x.schemaUrl}))
FROM _docs WHERE resourceMetrics IS NOT NULL
UNION ALL
SELECT NULL, source_file, line_no, 'logs', generate_subscripts(resourceLogs, 1),
    unnest(list_transform(resourceLogs, x -> {'resource': x.resource,
                                              'schema_url': x.schemaUrl}))
FROM _docs WHERE resourceLogs IS NOT NULL;
