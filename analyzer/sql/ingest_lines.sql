-- Careful path, step 1: every line of a file region as text. Parameters: source file, first
-- line number, file to read (valid UTF-8, ending with a newline). The text is split at
-- newlines only, so no byte of a line (a control character, a quote, a tab) can end it.
INSERT INTO _lines
WITH t AS (SELECT string_split(content, chr(10)) AS parts FROM read_text(?3))
SELECT ?1::VARCHAR AS source_file, (i + ?2 - 1)::BIGINT AS line_no, parts[i] AS line
FROM t, range(1, len(parts)) r(i);
