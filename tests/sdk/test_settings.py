"""Bad settings fail early with one error that names the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
import swarmscope
from swarmscope import conventions as c
from swarmscope.settings import ConfigError, resolve


@pytest.fixture(autouse=True)
def _no_leftover_telemetry():
    yield
    swarmscope.shutdown()


def test_unknown_exporter_names_the_setting(monkeypatch) -> None:
    with pytest.raises(ConfigError, match=c.ENV_EXPORTER) as error:
        swarmscope.init(exporter="kafka")
    assert "kafka" in str(error.value) and "file, otlp, none" in str(error.value)
    monkeypatch.setenv(c.ENV_EXPORTER, "zipkin")
    with pytest.raises(ConfigError, match="exporter"):
        swarmscope.init()


@pytest.mark.parametrize("value", [-1, 0, "soon"])
def test_bad_sample_interval_names_the_setting(value, monkeypatch) -> None:
    with pytest.raises(ConfigError, match=f"sample_interval.*{c.ENV_SAMPLE_INTERVAL}"):
        swarmscope.init(sample_interval=value)
    monkeypatch.setenv(c.ENV_SAMPLE_INTERVAL, str(value))
    with pytest.raises(ConfigError, match=c.ENV_SAMPLE_INTERVAL):
        swarmscope.init()


def test_unwritable_data_dir_names_the_setting(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=c.ENV_DATA_DIR) as error:
        swarmscope.init(data_dir=blocker / "data")
    assert str(blocker) in str(error.value)
    monkeypatch.setenv(c.ENV_DATA_DIR, str(blocker))
    with pytest.raises(ConfigError, match="data_dir"):
        swarmscope.init()


def test_bad_protocol_and_max_agents() -> None:
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        swarmscope.init(exporter="otlp", protocol="carrier-pigeon")
    with pytest.raises(ConfigError, match="max_agents"):
        swarmscope.init(max_agents=-2)


def test_exporter_defaults_follow_the_otlp_endpoint(monkeypatch, data_dir: Path) -> None:
    assert resolve().exporter == "file"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    settings = resolve()
    assert (settings.exporter, settings.protocol) == ("otlp", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1.5")
    assert resolve().export_timeout == 1.5
    monkeypatch.setenv(c.ENV_SAMPLE_INTERVAL, "0.25")
    assert resolve().sample_interval == 0.25


def test_session_id_is_inherited_from_the_environment(monkeypatch) -> None:
    assert resolve().session_inherited is False
    monkeypatch.setenv(c.ENV_SESSION_ID, "parent-session")
    settings = resolve()
    assert settings.session_id == "parent-session" and settings.session_inherited
