-- Careful path, step 1: every line of a file region as text. Parameters: source file, first
-- line number, file to read. No delimiter, quote or escape character occurs in JSON text.
INSERT INTO _lines
SELECT ?::VARCHAR AS source_file, (row_number() OVER () + ? - 1)::BIGINT AS line_no, line
FROM read_csv(?, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '',
              header = false, auto_detect = false, new_line = '\n',
              max_line_size = 536870912, buffer_size = 1073741824);
