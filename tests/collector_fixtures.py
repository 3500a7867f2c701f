"""Fixtures for the collector tests: the real Collector binary on free localhost ports."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from swarmscope.collector.distribution import build
from swarmscope.collector.runner import CollectorSettings, RunningCollector, start

SIGNAL_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}


@pytest.fixture(scope="session")
def collector_binary() -> Path:
    """The Collector built from collector/ (a no-op when it is up to date)."""
    return build(progress=lambda message: None)


def distinct_ports(port_factory: Callable[[], int], count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = port_factory()
        if port not in ports:
            ports.append(port)
    return ports


@pytest.fixture
def collector_settings(data_dir: Path, port_factory) -> Callable[..., CollectorSettings]:
    """Settings with four free ports; keyword arguments override fields."""

    def make(**overrides) -> CollectorSettings:
        grpc, http, health, metrics = distinct_ports(port_factory, 4)
        fields = dict(
            data_dir=data_dir, grpc_port=grpc, http_port=http, health_port=health,
            metrics_port=metrics,
        )
        fields.update(overrides)
        return CollectorSettings(**fields)

    return make


@pytest.fixture
def start_collector(
    collector_binary: Path, collector_settings
) -> Iterator[Callable[..., RunningCollector]]:
    """Start a Collector (temp data dir, free ports); every one started is stopped afterwards."""
    started: list[RunningCollector] = []

    def _start(settings: CollectorSettings | None = None, **overrides) -> RunningCollector:
        collector = start(settings or collector_settings(**overrides))
        started.append(collector)
        return collector

    yield _start
    for collector in started:
        if collector.alive():
            collector.stop(timeout=10)


@pytest.fixture
def post_json() -> Callable[[RunningCollector, str, dict | bytes], int]:
    return post_otlp_json


def post_otlp_json(collector: RunningCollector, signal: str, payload: dict | bytes) -> int:
    """POST an OTLP JSON request to the Collector's HTTP receiver; returns the HTTP status."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(
        collector.settings.http_endpoint + SIGNAL_PATHS[signal],
        data=body, headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status
