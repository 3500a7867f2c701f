-- Parse each non-blank line of the batch (_lines: source_file, line_no, line) with the explicit OTLP
-- structure ($DOCUMENT). A line that is not JSON gives d = NULL and is reported.
CREATE OR REPLACE TEMP TABLE _docs AS
SELECT source_file, line_no, TRY(json_transform(line, $DOCUMENT)) AS d
FROM _lines
WHERE line IS NOT NULL AND (length(line) > 16 OR trim(line) <> '');
