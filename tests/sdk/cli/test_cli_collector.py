"""``swarmscope collector ...``: the commands over the real Collector, and the settings they
take from options and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from swarmscope import conventions as conv
from swarmscope.cli import app
from swarmscope.cli.collector import collector_settings
from swarmscope.collector.distribution import CollectorError
from swarmscope.collector.runner import start
from swarmscope.settings import ConfigError
from typer.testing import CliRunner

pytestmark = pytest.mark.collector

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args: str):
    return CliRunner().invoke(app, ["collector", *args])


def test_validate_command_reports_a_forwarding_overlay_without_endpoint(collector_binary):
    result = run_cli(
        "validate", "--config", str(REPO / "otel-collector.yaml"),
        "--config", str(REPO / "otel-collector.forward.yaml"),
    )
    assert result.exit_code == 2
    assert "invalid Collector configuration" in result.output
    assert "endpoint" in result.output


def test_validate_command_accepts_the_shipped_config(collector_binary):
    result = run_cli("validate")
    assert result.exit_code == 0, result.output
    assert "otel-collector.yaml" in result.output


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
        assert again.exit_code == 2 and "already writes to" in again.output
    finally:
        stopped = run_cli("stop", *data)
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    assert run_cli("status", *data).exit_code == 3
    for signal_name in (conv.SIGNAL_TRACES, conv.SIGNAL_METRICS, conv.SIGNAL_LOGS):
        assert s.signal_file(signal_name).exists()


def test_options_win_over_the_environment_and_the_environment_over_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv(conv.ENV_OTLP_GRPC_PORT, "24317")
    monkeypatch.setenv(conv.ENV_COLLECTOR_HOST, "127.0.0.2")
    from_env = collector_settings(tmp_path)
    assert (from_env.grpc_port, from_env.host, from_env.http_port) == (24317, "127.0.0.2", 4318)
    assert collector_settings(tmp_path, grpc_port=34317).grpc_port == 34317


def test_a_relative_data_dir_becomes_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert collector_settings(Path("here")).data_dir == tmp_path / "here"


def test_missing_binary_names_the_variable_that_chose_it(monkeypatch, tmp_path):
    monkeypatch.setenv(conv.ENV_COLLECTOR_BIN, str(tmp_path / "no-such-otelcol"))
    with pytest.raises(CollectorError, match=conv.ENV_COLLECTOR_BIN):
        start(collector_settings(tmp_path))


@pytest.mark.parametrize("value", ["http", "0", "70000"])
def test_a_bad_port_variable_is_named(monkeypatch, tmp_path, value):
    monkeypatch.setenv(conv.ENV_OTLP_HTTP_PORT, value)
    with pytest.raises(ConfigError, match=conv.ENV_OTLP_HTTP_PORT):
        collector_settings(tmp_path)
    result = run_cli("validate")
    assert result.exit_code == 2 and conv.ENV_OTLP_HTTP_PORT in result.output
