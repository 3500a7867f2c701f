-- Careful path: empty the line table for the next file.
DELETE FROM _lines;
