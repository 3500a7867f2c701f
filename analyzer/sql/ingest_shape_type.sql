-- The OTLP document structure as a DuckDB type name (for Python's field checks).
SELECT otlp_document_structure()::VARCHAR;
