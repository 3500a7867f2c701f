"""Analyzer: DuckDB ingest, session model, grading and reports."""
