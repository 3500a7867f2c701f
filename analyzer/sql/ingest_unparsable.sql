-- Careful path: the lines that did not parse as a JSON object, with their text (the reason
-- is worked out in Python, which names the JSON error and its column).
SELECT l.source_file, l.line_no, l.line
FROM _lines l JOIN _parsed p USING (source_file, line_no)
WHERE p.d IS NULL
ORDER BY 1, 2;
