"""Fixtures every test shares: an isolated environment and data directory, and free ports."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

# The real Collector on free localhost ports, for the collector and the CLI tests.
pytest_plugins = ["collector_fixtures"]


def free_port() -> int:
    """A localhost TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No OTEL_* or SWARMSCOPE_* setting leaks in from the machine; data goes to a temp dir."""
    for key in list(os.environ):
        if key.startswith(("OTEL_", "SWARMSCOPE_")) or key in ("TRACEPARENT", "TRACESTATE", "BAGGAGE"):
            monkeypatch.delenv(key, raising=False)
    data_dir = tmp_path / "swarmscope-data"
    monkeypatch.setenv("SWARMSCOPE_DATA_DIR", str(data_dir))
    yield data_dir


@pytest.fixture
def data_dir(isolated_env: Path) -> Path:
    """The data directory this test writes to (SWARMSCOPE_DATA_DIR)."""
    return isolated_env


@pytest.fixture
def port_factory():
    return free_port
