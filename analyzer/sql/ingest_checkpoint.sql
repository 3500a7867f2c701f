-- The one checkpoint of an ingest run; until then the WAL holds the committed rows.
CHECKPOINT;
