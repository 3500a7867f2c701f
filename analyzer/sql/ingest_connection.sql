-- Settings of an ingest connection. Checkpoint once at the end (ingest_checkpoint.sql)
-- instead of every few groups: each checkpoint costs more as the database grows.
SET checkpoint_threshold = '1TB';
