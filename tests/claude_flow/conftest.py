"""Claude-Flow from npm (pinned), installed by ``make claude-flow`` into a cache outside the
repo, and a stand-in ``claude`` on PATH. Tests skip, saying why, only when the package is not
installed and the npm registry cannot be reached to install it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

VERSION = "3.43.0"
PREFIX = Path(os.environ.get("CLAUDE_FLOW_PREFIX", Path.home() / ".cache/swarmscope/npm"))
BIN = PREFIX / "node_modules" / ".bin"
STAND_IN = Path(__file__).parent / "bin"


def _installed() -> bool:
    package = PREFIX / "node_modules" / "claude-flow" / "package.json"
    return (BIN / "claude-flow").exists() and f'"version": "{VERSION}"' in (
        package.read_text() if package.exists() else ""
    )


def _install() -> str | None:
    """Install it now (``make test`` normally did); the reason when that is impossible."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    ping = subprocess.run([npm, "ping"], capture_output=True, text=True, timeout=60)
    if ping.returncode != 0:
        return f"the npm registry cannot be reached: {ping.stderr.strip()[-200:]}"
    PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund",
                    f"claude-flow@{VERSION}"], check=True, timeout=900)  # fmt: skip
    return None


@pytest.fixture(scope="session")
def claude_flow_path() -> str:
    """PATH with claude-flow and the stand-in claude first."""
    if not _installed():
        reason = _install()
        if reason is not None:
            print(f"skipping Claude-Flow tests: {reason}")
            pytest.skip(reason)
    return os.pathsep.join([str(STAND_IN), str(BIN), os.environ.get("PATH", "")])
