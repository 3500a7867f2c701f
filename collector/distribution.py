"""Build the swarmscope OpenTelemetry Collector distribution from its Go sources.

The sources are ``main.go``, ``components.go``, ``go.mod`` and ``go.sum`` beside this file;
every Collector module is pinned to one release in ``go.mod``. The binary goes to
``collector/build/swarmscope-otelcol``. Go's own module and build caches are reused, so only
the first build is slow; a build whose sources have not changed is a no-op (a stamp file
beside the binary records the hash of the sources and of the Go version that built it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from swarmscope import conventions as conv

SOURCE_DIR = Path(__file__).resolve().parent
BUILD_DIR = SOURCE_DIR / "build"
BINARY_NAME = "swarmscope-otelcol"
SOURCES = ("main.go", "components.go", "go.mod", "go.sum")
# The Collector release every module in go.mod is pinned to; docker-compose uses the
# contrib image of the same release (a test checks that the three agree).
COLLECTOR_VERSION = "0.160.0"
MIN_GO = (1, 26)

Progress = Callable[[str], None]


class CollectorError(RuntimeError):
    """A problem with the Collector binary, its configuration or its process, said plainly."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def built_binary() -> Path:
    return BUILD_DIR / BINARY_NAME


def require_binary(override: Path | None = None) -> Path:
    """The Collector binary (``override``, else the built one), or an error that says how to
    get one."""
    path = override or built_binary()
    if path.is_file() and os.access(path, os.X_OK):
        return path
    if override is not None:
        raise CollectorError(
            f"{conv.ENV_COLLECTOR_BIN}={path} is not an executable file; "
            "point it at an OpenTelemetry Collector binary or unset it to use the built one"
        )
    raise CollectorError(
        f"the Collector binary {path} does not exist yet; "
        "build it with `swarmscope collector build` (or `make collector`)"
    )


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise CollectorError(
            "Go is not installed (no `go` on PATH); the Collector is built from its Go modules "
            f"and needs Go {MIN_GO[0]}.{MIN_GO[1]} or newer"
        )
    return go


def go_version(go: str) -> str:
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True)
    return out.stdout.strip()  # e.g. go1.26.8


def _check_go_version(version: str) -> None:
    digits = version.removeprefix("go").split(".")
    try:
        major_minor = (int(digits[0]), int(digits[1].split("rc")[0].split("beta")[0]))
    except (IndexError, ValueError):
        return  # a development toolchain: let `go build` decide
    if major_minor < MIN_GO:
        raise CollectorError(
            f"{version} is too old to build the Collector {COLLECTOR_VERSION}; "
            f"it needs Go {MIN_GO[0]}.{MIN_GO[1]} or newer"
        )


def sources_digest(go_version_text: str) -> str:
    digest = hashlib.sha256(go_version_text.encode())
    for name in SOURCES:
        digest.update(name.encode())
        digest.update((SOURCE_DIR / name).read_bytes())
    return digest.hexdigest()


def _stamp() -> Path:
    return BUILD_DIR / f"{BINARY_NAME}.sources"


def is_up_to_date(go: str | None = None) -> bool:
    """True when the built binary was made from the current sources with this Go."""
    binary, stamp = built_binary(), _stamp()
    if not (binary.is_file() and stamp.is_file()):
        return False
    version = go_version(go or _go())
    return stamp.read_text().strip() == sources_digest(version)


def build(force: bool = False, progress: Progress = _stderr) -> Path:
    """Build the Collector into ``collector/build/``; a no-op when it is up to date."""
    go = _go()
    version = go_version(go)
    _check_go_version(version)
    binary = built_binary()
    if not force and is_up_to_date(go):
        progress(f"collector: {binary} is up to date (Collector {COLLECTOR_VERSION}, {version})")
        return binary
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    progress(
        f"collector: building the OpenTelemetry Collector {COLLECTOR_VERSION} with {version}; "
        "the first build downloads about 500 MB of Go modules and compiles for a minute or "
        "more, later builds reuse Go's caches"
    )
    _run_go(go, ["mod", "download", "-json"], "downloading Go modules", progress, '\t"Path"')
    progress(f"collector: modules ready after {time.monotonic() - started:.0f}s; compiling")
    tmp = binary.with_name(binary.name + ".tmp")
    # -mod=mod: resolve from go.mod/go.sum as committed. -trimpath and -buildvcs=false keep
    # local paths and git state out of the binary, so a clean clone builds the same thing.
    _run_go(
        go,
        ["build", "-v", "-mod=mod", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
         "-o", str(tmp), "."],
        "compiling",
        progress,
        "",
    )
    tmp.replace(binary)
    _stamp().write_text(sources_digest(version) + "\n")
    progress(f"collector: built {binary} in {time.monotonic() - started:.0f}s")
    return binary


def _run_go(go: str, args: list[str], what: str, progress: Progress, counts: str) -> None:
    """Run go and report every 100 output lines starting with ``counts`` (a module it
    downloaded, a package it compiled); the output is kept for the error message."""
    proc = subprocess.Popen(
        [go, *args], cwd=SOURCE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    done = 0
    started = time.monotonic()
    for line in proc.stdout:
        lines.append(line.rstrip())
        if line.startswith(counts):
            done += 1
            if done % 100 == 0:
                elapsed = time.monotonic() - started
                progress(f"collector: {what}: {done} so far, {elapsed:.0f}s")
    if proc.wait() != 0:
        tail = "\n".join(lines[-30:])
        raise CollectorError(f"`go {' '.join(args)}` failed in {SOURCE_DIR}:\n{tail}")
