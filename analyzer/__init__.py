"""Analyzer: DuckDB ingest, session model, grading and reports.

The library reads no environment variables and imports only ``swarmscope.conventions`` from
the rest of swarmscope; the command line (``swarmscope.cli.data``, ``swarmscope.cli.report``)
resolves the data directory and the control-points file and calls :mod:`.api`.

    api             what the CLI calls: grade, grade_many, render, compare, query
    db              open the database, load sql/*.sql by name
    sql/            the data model as SQL: ingest_shape (the OTLP JSON structure),
                    ingest_* (flattening), schema, views, grading_* (what grading reads)
    ingest          one ingest run: plan, run the jobs side by side, summarise
    ingest_files    which files to read and which part of each is new
    ingest_load     one group of regions into the tables, in one transaction
    ingest_results  the run's summary, skipped lines, IngestError
    session_data    one session as grading reads it (agents, samples, cleanup records)
    timeline        session totals on a common time grid, and the phases on it
    leaks           Theil-Sen slope + Mann-Kendall trend: leak verdicts per series
    grading/        one module per dimension (memory, cpu, processes, gc, cleanup),
                    context (what they share) and session (the whole session's grade)
    config          control_points.toml: curves, weights, bands, verdict thresholds
    scoring         the log-normal curve, weighted means, letters and words
    results         the graded session: Severity, Finding, DimensionGrade, SessionGrade ...
    units           how figures are written (MiB, %)
    report_md, report_json, report_html   the three report formats
"""
