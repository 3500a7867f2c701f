"""`swarmscope sql` and `swarmscope sessions` over a real database: formats, read-only, errors;
and the database opens directly from Python's duckdb."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer.ingest import ingest

CLI = Path(sys.executable).with_name("swarmscope")


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, C.ENV_DATA_DIR: str(data_dir), "COLUMNS": "200"}
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=60,
                          env=env)


@pytest.fixture
def plain_otel_data(data_dir: Path) -> Path:
    """Spans and metrics from the plain OpenTelemetry SDK and its official file exporters:
    no session.id, so the session comes from service.name + service.instance.id."""
    from opentelemetry.exporter.otlp.json.file import FileMetricExporter, FileSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    out = data_dir / "other"
    out.mkdir(parents=True)
    resource = Resource.create({C.SERVICE_NAME: "plain-app"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(out / "t.jsonl")))
    with tracer_provider.get_tracer("x").start_as_current_span("work"):
        with tracer_provider.get_tracer("x").start_as_current_span("child"):
            pass
    reader = PeriodicExportingMetricReader(FileMetricExporter(out / "m.jsonl"),
                                           export_interval_millis=3_600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter_provider.get_meter("x").create_counter("jobs").add(3)
    meter_provider.shutdown()
    tracer_provider.shutdown()
    summary = ingest(None, data_dir)
    assert summary.errors == [] and summary.rows_added["spans"] == 2
    return data_dir


def test_other_producers_form_a_session_by_instance(plain_otel_data: Path) -> None:
    con = duckdb.connect(str(plain_otel_data / C.DATABASE_FILE), read_only=True)
    (instance,) = con.execute(
        "SELECT DISTINCT service_instance_id FROM resources").fetchone()
    assert instance
    assert con.execute("SELECT session_id, span_count, metric_point_count FROM sessions"
                       ).fetchall() == [(f"plain-app/{instance}", 2, 1)]
    child, parent = con.execute(
        "SELECT parent_span_id, span_id FROM spans ORDER BY start_time DESC").fetchall()
    assert child[0] == parent[1]  # the child points at its parent


def test_sql_formats(plain_otel_data: Path) -> None:
    query = "SELECT name, kind, attributes FROM spans ORDER BY name"
    as_json = run("sql", query, "--format", "json", data_dir=plain_otel_data)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [
        {"name": "child", "kind": "INTERNAL", "attributes": {}},
        {"name": "work", "kind": "INTERNAL", "attributes": {}},
    ]
    as_csv = run("sql", query, "-f", "csv", data_dir=plain_otel_data)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["name", "kind", "attributes"], ["child", "INTERNAL", "{}"], ["work", "INTERNAL", "{}"]]
    table = run("sql", query, data_dir=plain_otel_data)
    assert table.returncode == 0 and "child" in table.stdout and "INTERNAL" in table.stdout


def test_sql_answers_with_time_zones(plain_otel_data: Path) -> None:
    # DuckDB hands TIMESTAMPTZ values to Python through pytz; without it `now()` was an error
    query = "SELECT TIMESTAMPTZ '2026-01-01 12:00:00+00' AS t, now() IS NOT NULL AS ok"
    result = run("sql", query, "-f", "csv", data_dir=plain_otel_data)
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["t", "ok"], ["2026-01-01 12:00:00+00:00", "True"]]


def test_sessions_lists_sessions(plain_otel_data: Path) -> None:
    result = run("sessions", "--format", "json", data_dir=plain_otel_data)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["session_id"].startswith("plain-app/")
    assert (row["spans"], row["points"], row["agents"]) == (2, 1, 0)


def test_sql_is_read_only_and_errors_are_clear(plain_otel_data: Path, tmp_path: Path) -> None:
    deleted = run("sql", "DELETE FROM spans", data_dir=plain_otel_data)
    assert deleted.returncode == 2 and "read-only" in deleted.stderr
    con = duckdb.connect(str(plain_otel_data / C.DATABASE_FILE), read_only=True)
    assert con.execute("SELECT count(*) FROM spans").fetchone() == (2,)
    con.close()
    typo = run("sql", "SELECT nope FROM spans", data_dir=plain_otel_data)
    assert typo.returncode == 2 and "nope" in typo.stderr
    bad_format = run("sql", "SELECT 1", "--format", "xml", data_dir=plain_otel_data)
    assert bad_format.returncode == 2 and "--format" in bad_format.stderr
    empty = run("sessions", data_dir=tmp_path / "none")
    assert empty.returncode == 2 and "swarmscope ingest" in empty.stderr
