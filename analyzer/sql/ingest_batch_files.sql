-- Which data files one file read holds, one row each. Parameters: the file read; then, as
-- parallel lists, each data file's path, first line number, first row in the read, row count.
INSERT INTO _batch_files
SELECT ?, unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]),
    NULL, NULL;
