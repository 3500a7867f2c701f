"""otel-collector.yaml, the forwarding overlay, validation and the build."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from swarmscope import conventions as conv
from swarmscope.collector import distribution
from swarmscope.collector.distribution import CollectorError
from swarmscope.collector.runner import CollectorSettings, find_config, validate

pytestmark = pytest.mark.collector

REPO = Path(__file__).resolve().parents[2]


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
