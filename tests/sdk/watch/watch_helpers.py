"""Running ``swarmscope run`` on small programs written for a test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SWARMSCOPE = Path(sys.executable).parent / "swarmscope"


def write(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def run(
    tmp_path: Path, *cmd: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``swarmscope run -q`` (no grading: these tests read the files themselves)."""
    return subprocess.run(
        [str(SWARMSCOPE), "run", "-q", "--interval", "0.5", "--", *cmd],
        cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def events_available() -> bool:
    """Whether kernel process events can be had here (the proc connector needs
    CAP_NET_ADMIN)."""
    from swarmscope.watch.tree import ProcConnector

    connector = ProcConnector.open()
    if connector is None:
        return False
    connector.close()
    return True
