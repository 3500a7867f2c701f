-- Careful path, step 2: parse each non-blank line on its own with the explicit structure
-- (otlp_document_structure, ingest_shape.sql). A field of the wrong type or out of range
-- becomes NULL (Python names it: ingest_json.misfits); a line that is not a JSON object
-- gives d = NULL and is reported by line number (ingest_unparsable.sql).
CREATE OR REPLACE TEMP TABLE _parsed AS
SELECT source_file, line_no,
    CASE WHEN TRY(json_type(line)) = 'OBJECT'
         THEN TRY(json_transform(line, otlp_document_structure())) END AS d
FROM _lines
WHERE line IS NOT NULL AND (length(line) > 16 OR trim(line) <> '');

INSERT INTO _batch_files
SELECT DISTINCT 'careful:' || source_file, source_file, NULL::BIGINT, NULL::BIGINT,
    NULL::BIGINT, NULL::BIGINT, NULL::BIGINT
FROM _parsed;

INSERT INTO _raw
SELECT 'careful:' || source_file, line_no, d.resourceSpans, d.resourceMetrics, d.resourceLogs
FROM _parsed WHERE d IS NOT NULL;
