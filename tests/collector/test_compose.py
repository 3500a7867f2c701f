"""docker-compose.yml agrees with otel-collector.yaml and with the Collector built here.

No Docker engine runs where the tests run, so the file is read as data; the forwarding overlay
it carries is checked with the real Collector binary.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from swarmscope import conventions as conv
from swarmscope.collector.distribution import COLLECTOR_VERSION, SOURCE_DIR
from swarmscope.collector.runner import CollectorSettings, validate

REPO = Path(__file__).resolve().parents[2]
IMAGE = "otel/opentelemetry-collector-contrib"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def collector(compose) -> dict:
    return compose["services"]["collector"]


def env_default(config_text: str, variable: str) -> str:
    match = re.search(r"\$\{env:" + variable + r":-([^}]*)\}", config_text)
    assert match, f"otel-collector.yaml does not read {variable}"
    return match.group(1)


def test_image_release_is_the_release_of_every_module_in_go_mod(collector):
    repository, tag = collector["image"].rsplit(":", 1)
    assert repository == IMAGE
    assert tag == COLLECTOR_VERSION
    go_mod = (SOURCE_DIR / "go.mod").read_text()
    require = go_mod.split("require (", 1)[1].split(")", 1)[0]
    modules = dict(line.split() for line in require.strip().splitlines())
    collector_modules = {
        m: v for m, v in modules.items()
        if m.startswith(("go.opentelemetry.io/collector", "github.com/open-telemetry/"))
    }
    unstable = {m: v for m, v in collector_modules.items() if v.startswith("v0.")}
    assert len(unstable) >= 10
    assert set(unstable.values()) == {f"v{COLLECTOR_VERSION}"}
    assert f'version = "{COLLECTOR_VERSION}"' in (SOURCE_DIR / "main.go").read_text()


def test_the_collector_runs_the_mounted_otel_collector_yaml(collector):
    mounts = dict(v.split(":")[:2] for v in collector["volumes"])
    target = mounts["./otel-collector.yaml"]
    assert f"--config={target}" in collector["command"]
    assert collector["command"][0] == f"--config={target}"  # overlays come after it


def test_ports_match_the_receivers(collector):
    config = (REPO / "otel-collector.yaml").read_text()
    env = collector["environment"]
    assert env[conv.ENV_COLLECTOR_HOST] == "0.0.0.0"  # reachable from the other containers
    published = {}
    for mapping in collector["ports"]:
        host_ip, host_port, container_port = mapping.split(":")
        assert host_ip == "127.0.0.1"  # the host side stays local, as the config's default
        published[int(container_port)] = int(host_port)
    for variable in (conv.ENV_OTLP_GRPC_PORT, conv.ENV_OTLP_HTTP_PORT,
                     conv.ENV_COLLECTOR_HEALTH_PORT):  # fmt: skip
        port = int(env.get(variable, env_default(config, variable)))
        assert port == int(env_default(config, variable)), "the standard ports, as documented"
        assert published[port] == port


def test_data_directory_is_one_volume_shared_by_collector_and_analyzer(compose, collector):
    def data_mount(service: dict) -> tuple[str, str]:
        (mount,) = [v for v in service["volumes"] if not v.startswith("./")]
        volume, path = mount.split(":")[:2]
        return volume, path

    volume, path = data_mount(collector)
    assert volume in compose["volumes"]
    assert collector["environment"][conv.ENV_DATA_DIR] == path
    analyzer = compose["services"]["analyzer"]
    assert data_mount(analyzer) == (volume, path)
    assert analyzer["environment"][conv.ENV_DATA_DIR] == path
    assert "swarmscope report" in " ".join(analyzer["command"])
    assert analyzer["depends_on"]["demo"]["condition"] == "service_completed_successfully"
    init = compose["services"]["data-dir"]
    assert data_mount(init) == (volume, path)
    assert f"{path}/{conv.COLLECTOR_SUBDIR}" in " ".join(init["command"])


def test_the_demo_swarm_sends_to_the_collector_over_otlp(compose, collector):
    demo = compose["services"]["demo"]
    endpoint = urlparse(demo["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "collector"
    assert endpoint.port == int(collector["environment"][conv.ENV_OTLP_GRPC_PORT])
    assert demo["environment"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert demo["environment"][conv.ENV_EXPORTER] == "otlp"
    assert "examples/mesh_swarm.py" in " ".join(demo["command"])


def test_the_forwarding_overlay_points_at_jaeger_and_is_valid(
    compose, collector, collector_binary, tmp_path
):
    (config_ref,) = collector["configs"]
    assert f"--config={config_ref['target']}" in collector["command"]
    content = compose["configs"][config_ref["source"]]["content"]
    overlay = yaml.safe_load(content)
    (exporter,) = overlay["exporters"].values()
    host, port = exporter["endpoint"].split(":")
    assert host in compose["services"] and host == "jaeger"
    assert port == "4317"
    overlay_file = tmp_path / "forward-traces.yaml"
    overlay_file.write_text(content)
    validate(CollectorSettings(configs=[REPO / "otel-collector.yaml", overlay_file]))
