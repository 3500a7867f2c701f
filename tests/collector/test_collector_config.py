"""otel-collector.yaml, the forwarding overlay and the validate/build/CLI commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from swarmscope import conventions as conv
from swarmscope.collector import cli, distribution
from swarmscope.collector.distribution import CollectorError
from swarmscope.collector.runner import CollectorSettings, find_config, validate
from typer.testing import CliRunner

pytestmark = pytest.mark.collector

REPO = Path(__file__).resolve().parents[2]


def collector_cli() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)
    return app


def run_cli(*args: str):
    return CliRunner().invoke(collector_cli(), ["collector", *args])


def test_the_shipped_config_and_the_forwarding_overlay_are_valid(collector_binary):
    validate(CollectorSettings())
    validate(CollectorSettings(forward_endpoint="127.0.0.1:4317"))


def test_the_config_keeps_the_choices_the_pipeline_depends_on():
    config = yaml.safe_load((REPO / "otel-collector.yaml").read_text())
    for name, pipeline in config["service"]["pipelines"].items():
        assert pipeline["processors"][0] == "memory_limiter", name
        assert pipeline["receivers"] == ["otlp"]
        (exporter,) = pipeline["exporters"]
        file_exporter = config["exporters"][exporter]
        assert file_exporter["append"] is True  # a restart must not truncate the session
        assert file_exporter["path"].endswith(f"/{conv.COLLECTOR_SUBDIR}/{name}.jsonl")
        assert f"${{env:{conv.ENV_DATA_DIR}:-./{conv.DEFAULT_DATA_DIR}}}" in file_exporter["path"]
    for protocol in ("grpc", "http"):
        endpoint = config["receivers"]["otlp"]["protocols"][protocol]["endpoint"]
        assert endpoint.startswith(f"${{env:{conv.ENV_COLLECTOR_HOST}:-127.0.0.1}}:")


def test_a_yaml_error_names_the_file_and_line(collector_binary, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("receivers:\n  otlp:\n    protocols: [grpc\n")
    with pytest.raises(CollectorError) as error:
        validate(CollectorSettings(configs=[broken]))
    message = str(error.value)
    assert str(broken) in message and "line" in message


def test_an_unknown_component_is_named(collector_binary, tmp_path):
    config = yaml.safe_load((REPO / "otel-collector.yaml").read_text())
    config["service"]["pipelines"]["traces"]["exporters"] = ["fiel/traces"]
    broken = tmp_path / "typo.yaml"
    broken.write_text(yaml.safe_dump(config))
    with pytest.raises(CollectorError, match="fiel/traces"):
        validate(CollectorSettings(configs=[broken]))


def test_validate_command_reports_a_forwarding_overlay_without_endpoint(collector_binary):
    result = run_cli(
        "validate", "--config", str(REPO / "otel-collector.yaml"),
        "--config", str(REPO / "otel-collector.forward.yaml"),
    )
    assert result.exit_code == 1
    assert "invalid Collector configuration" in result.output
    assert "endpoint" in result.output


def test_validate_command_accepts_the_shipped_config(collector_binary):
    result = run_cli("validate")
    assert result.exit_code == 0, result.output
    assert "otel-collector.yaml" in result.output


def test_find_config_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CollectorError, match="no-such.yaml"):
        find_config("no-such.yaml")


def test_build_is_a_no_op_when_the_binary_matches_the_sources(collector_binary):
    assert collector_binary == distribution.built_binary()
    assert distribution.is_up_to_date()
    messages: list[str] = []
    distribution.build(progress=messages.append)
    assert len(messages) == 1 and "up to date" in messages[0]


def test_start_status_stop_commands(collector_binary, collector_settings):
    s = collector_settings()
    ports = [
        "--grpc-port", str(s.grpc_port), "--http-port", str(s.http_port),
        "--health-port", str(s.health_port), "--metrics-port", str(s.metrics_port),
    ]
    data = ["--data-dir", str(s.data_dir)]
    started = run_cli("start", *data, *ports)
    try:
        assert started.exit_code == 0, started.output
        assert f"http://127.0.0.1:{s.grpc_port}" in started.output
        status = run_cli("status", *data)
        assert status.exit_code == 0 and "healthy" in status.output
        again = run_cli("start", *data, *ports)
        assert again.exit_code == 1 and "already writes to" in again.output
    finally:
        stopped = run_cli("stop", *data)
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    assert run_cli("status", *data).exit_code == 3
    for signal_name in (conv.SIGNAL_TRACES, conv.SIGNAL_METRICS, conv.SIGNAL_LOGS):
        assert s.signal_file(signal_name).exists()
