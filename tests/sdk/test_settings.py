"""Bad settings fail early with one error that names the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import swarmscope
from otlp_files import audit_events, by_operation, load_spans
from swarmscope import conventions as c
from swarmscope import settings
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


# --- one boolean rule, for every reader of SWARMSCOPE_RECORD_COMMAND_LINES -----------------------

TRUE_WORDS = ["1", "true", "TRUE", "on", "On", "yes"]
FALSE_WORDS = ["0", "false", "OFF", "no", ""]
SWARMSCOPE = Path(sys.executable).parent / "swarmscope"


@pytest.mark.parametrize("word", TRUE_WORDS + FALSE_WORDS)
def test_one_boolean_rule(word: str, monkeypatch) -> None:
    monkeypatch.setenv(c.ENV_RECORD_COMMAND_LINES, word)
    expected = word in TRUE_WORDS
    assert settings.record_command_lines() is expected
    assert resolve().record_command_lines is expected
    assert settings.parse_flag(word, "x") is expected


def test_a_bad_boolean_names_its_variable(monkeypatch) -> None:
    monkeypatch.setenv(c.ENV_RECORD_COMMAND_LINES, "maybe")
    with pytest.raises(ConfigError, match=c.ENV_RECORD_COMMAND_LINES) as error:
        swarmscope.init()
    assert error.value.setting == c.ENV_RECORD_COMMAND_LINES and "maybe" in str(error.value)
    # the watcher reads the same rule: it refuses to start, naming the variable
    run = subprocess.run([str(SWARMSCOPE), "run", "--", "true"], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 2 and c.ENV_RECORD_COMMAND_LINES in run.stderr


def _create_spans_with_command_lines(data_dir: Path) -> list[str]:
    return [s.attrs[c.PROCESS_COMMAND_LINE]
            for s in by_operation(load_spans(data_dir), c.Operation.CREATE_AGENT)
            if c.PROCESS_COMMAND_LINE in s.attrs]  # fmt: skip


@pytest.mark.parametrize("word", ["on", "TRUE"])
def test_the_watcher_follows_the_rule(word: str, data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(c.ENV_RECORD_COMMAND_LINES, word)
    run = subprocess.run([str(SWARMSCOPE), "run", "--", "sh", "-c", "true --token=s3cret"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    (line,) = _create_spans_with_command_lines(data_dir)
    assert line.startswith("sh -c") and "s3cret" not in line


@pytest.mark.parametrize("word", ["on", "TRUE"])
def test_the_instrumentation_follows_the_rule(word: str, data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(c.ENV_RECORD_COMMAND_LINES, word)
    instrumentor = swarmscope.instrument()
    try:
        subprocess.run(["true", "--password=hunter2"], check=True)
    finally:
        instrumentor.uninstrument()
        swarmscope.shutdown()
    (line,) = _create_spans_with_command_lines(data_dir)
    assert line.startswith("true") and "hunter2" not in line


@pytest.mark.parametrize("word", ["on", "TRUE"])
def test_the_cleanup_audit_follows_the_rule(word: str, data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(c.ENV_RECORD_COMMAND_LINES, word)
    swarmscope.init(monitor=False)
    agent = swarmscope.spawn_agent("leaker", kind="inproc")
    orphan = subprocess.Popen(["sleep", "30"], env={**os.environ, **swarmscope.child_env(agent)})
    try:
        swarmscope.shutdown()
    finally:
        orphan.kill()
        orphan.wait()
    (event,) = [e for e in audit_events(load_spans(data_dir), c.EVENT_ORPHAN)
                if e[c.PROCESS_PID] == orphan.pid]  # fmt: skip
    assert event[c.PROCESS_COMMAND_LINE] == "sleep 30"
    assert event[c.AGENT_INSTANCE_ID] == agent.id
