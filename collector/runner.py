"""Run the Collector: start it in the background, wait for its health check, stop it gracefully.

Everything a started Collector needs to know is handed to it in the environment that
``otel-collector.yaml`` reads (ports, bind address, data directory), so the same config file
serves the command line, the tests and docker-compose. This module reads no settings of its
own: :class:`CollectorSettings` holds them, filled in by the caller (the command line reads
the user's through :mod:`swarmscope.settings`). A started Collector leaves its pid, its
settings and its log in ``<data_dir>/collector/``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from swarmscope import conventions as conv
from swarmscope.collector.distribution import BINARY_NAME, CollectorError, require_binary

CONFIG_FILE = "otel-collector.yaml"
FORWARD_CONFIG_FILE = "otel-collector.forward.yaml"
PID_FILE = "collector.pid"
RUN_FILE = "collector.run"  # key=value lines: the settings of the running Collector
LOG_FILE = "collector.log"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {
    conv.ENV_OTLP_GRPC_PORT: 4317,
    conv.ENV_OTLP_HTTP_PORT: 4318,
    conv.ENV_COLLECTOR_HEALTH_PORT: 13133,
    conv.ENV_COLLECTOR_METRICS_PORT: 8888,
}
PORT_ROLES = {
    conv.ENV_OTLP_GRPC_PORT: "OTLP/gRPC receiver",
    conv.ENV_OTLP_HTTP_PORT: "OTLP/HTTP receiver",
    conv.ENV_COLLECTOR_HEALTH_PORT: "health check",
    conv.ENV_COLLECTOR_METRICS_PORT: "Collector's own metrics",
}
_BIND_ERROR = re.compile(r"listen tcp [^ ]*?:(\d+): bind: address already in use")


def find_config(name: str = CONFIG_FILE) -> Path:
    """``name`` in the current directory, else the copy in the swarmscope source tree."""
    candidates = [Path.cwd() / name, Path(__file__).resolve().parent.parent / name]
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise CollectorError(f"no {name} found (looked at {tried}); pass one with --config")


@dataclass
class CollectorSettings:
    """What otel-collector.yaml is filled in with, and which Collector binary runs."""

    data_dir: Path = Path(conv.DEFAULT_DATA_DIR)
    host: str = DEFAULT_HOST
    grpc_port: int = DEFAULT_PORTS[conv.ENV_OTLP_GRPC_PORT]
    http_port: int = DEFAULT_PORTS[conv.ENV_OTLP_HTTP_PORT]
    health_port: int = DEFAULT_PORTS[conv.ENV_COLLECTOR_HEALTH_PORT]
    metrics_port: int = DEFAULT_PORTS[conv.ENV_COLLECTOR_METRICS_PORT]
    configs: list[Path] = field(default_factory=list)  # empty: otel-collector.yaml
    forward_endpoint: str | None = None  # adds otel-collector.forward.yaml
    binary: Path | None = None  # another otelcol instead of the one built here

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if not self.configs:
            self.configs = [find_config()]
        self.configs = [Path(c).resolve() for c in self.configs]
        forward_file = find_config(FORWARD_CONFIG_FILE) if self.forward_endpoint else None
        if forward_file and forward_file not in self.configs:
            self.configs.append(forward_file)

    @property
    def state_dir(self) -> Path:
        return self.data_dir / conv.COLLECTOR_SUBDIR

    @property
    def ports(self) -> dict[str, int]:
        return {
            conv.ENV_OTLP_GRPC_PORT: self.grpc_port,
            conv.ENV_OTLP_HTTP_PORT: self.http_port,
            conv.ENV_COLLECTOR_HEALTH_PORT: self.health_port,
            conv.ENV_COLLECTOR_METRICS_PORT: self.metrics_port,
        }

    @property
    def grpc_endpoint(self) -> str:
        return f"http://{self.host}:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.health_port}/"

    def signal_file(self, signal_name: str) -> Path:
        """Where the Collector writes one signal (traces | metrics | logs)."""
        return self.state_dir / f"{signal_name}.jsonl"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[conv.ENV_DATA_DIR] = str(self.data_dir)
        env[conv.ENV_COLLECTOR_HOST] = self.host
        env.update({key: str(port) for key, port in self.ports.items()})
        if self.forward_endpoint:
            env[conv.ENV_FORWARD_ENDPOINT] = self.forward_endpoint
        return env

    def config_args(self) -> list[str]:
        return [arg for path in self.configs for arg in ("--config", str(path))]


def validate(settings: CollectorSettings) -> None:
    """Check the configuration with the Collector's own ``validate``; raise with its reason."""
    binary = require_binary(settings.binary)
    missing = [str(p) for p in settings.configs if not p.is_file()]
    if missing:
        raise CollectorError(f"configuration file not found: {', '.join(missing)}")
    proc = subprocess.run(
        [str(binary), "validate", *settings.config_args()],
        env=settings.env(), capture_output=True, text=True, timeout=60,
    )
    if proc.returncode != 0:
        reason = (proc.stderr.strip() or proc.stdout.strip()).removeprefix("Error: ")
        files = ", ".join(str(p) for p in settings.configs)
        forwarding = any(p.name == FORWARD_CONFIG_FILE for p in settings.configs)
        if forwarding and not settings.env().get(conv.ENV_FORWARD_ENDPOINT):
            reason += f"\n(set {conv.ENV_FORWARD_ENDPOINT} or pass --forward host:port)"
        raise CollectorError(f"invalid Collector configuration ({files}):\n{reason}")


def _port_in_use(host: str, port: int) -> bool:
    """True when something listens on the port. SO_REUSEADDR as Go sets it, so connections
    lingering in TIME_WAIT after a restart do not count as a taken port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _port_taken_error(settings: CollectorSettings, port: int, detail: str = "") -> CollectorError:
    key = next((k for k, p in settings.ports.items() if p == port), None)
    what = f"the {PORT_ROLES[key]} port {port}" if key else f"port {port}"
    hint = f"set {key} (or the matching option) to a free port, " if key else ""
    return CollectorError(
        f"cannot start the Collector: {what} on {settings.host} is already in use; "
        f"{hint}or stop whatever listens there (`swarmscope collector status` shows a running "
        f"Collector){detail}"
    )


def health_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class RunningCollector:
    """A Collector process started by :func:`start`."""

    settings: CollectorSettings
    pid: int
    popen: subprocess.Popen | None = None  # set when this process started it

    @property
    def log_file(self) -> Path:
        return self.settings.state_dir / LOG_FILE

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return _is_collector(self.pid)

    def kill(self) -> None:
        """SIGKILL: no flush, as if the machine lost the process."""
        os.kill(self.pid, signal.SIGKILL)
        self._reap(5.0)
        _forget(self.settings)

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM (the Collector drains its pipelines and flushes its files), SIGKILL after
        ``timeout``. Returns True when it stopped gracefully."""
        graceful = True
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            if not self._reap(timeout):
                graceful = False
                os.kill(self.pid, signal.SIGKILL)
                self._reap(5.0)
        _forget(self.settings)
        return graceful

    def _reap(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None:
                try:
                    self.popen.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not _is_collector(self.pid):
                return True
            time.sleep(0.1)
        return False


def start(settings: CollectorSettings, timeout: float = 30.0) -> RunningCollector:
    """Start the Collector in the background and return once its health check answers."""
    binary = require_binary(settings.binary)
    existing = running(settings.data_dir)
    if existing is not None:
        raise CollectorError(
            f"a Collector (pid {existing.pid}) already writes to {settings.state_dir}; "
            "stop it first with `swarmscope collector stop`"
        )
    validate(settings)
    for port in settings.ports.values():
        if _port_in_use(settings.host, port):
            raise _port_taken_error(settings, port)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    for signal_name in (conv.SIGNAL_TRACES, conv.SIGNAL_METRICS, conv.SIGNAL_LOGS):
        seal_partial_line(settings.signal_file(signal_name))
    log_path = settings.state_dir / LOG_FILE
    log_offset = log_path.stat().st_size if log_path.exists() else 0  # this run's lines only
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            [str(binary), *settings.config_args()],
            env=settings.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `swarmscope collector start`, ignores its Ctrl-C
        )
    collector = RunningCollector(settings, popen.pid, popen)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise _startup_failure(settings, log_path, log_offset, popen.returncode)
        if health_ok(settings.health_url, timeout=0.5):
            _remember(collector)
            return collector
        time.sleep(0.1)
    collector.stop(timeout=5.0)
    raise CollectorError(
        f"the Collector did not report healthy at {settings.health_url} within {timeout:.0f}s; "
        f"see {log_path}"
    )


def seal_partial_line(path: Path) -> Path | None:
    """Move an unfinished last line (the Collector was killed mid-write) out of ``path``.

    The file exporter appends after whatever the file ends with, so without this the first
    line written after a restart would be glued to the fragment and both would be lost. The
    fragment goes to ``<file>.partial-<time>`` (which the analyzer does not read), never away.
    """
    size = path.stat().st_size if path.is_file() else 0
    if size == 0:
        return None
    with open(path, "rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        # Walk back to the last newline; only the tail is read, the file may be large.
        cut, chunk = size, 1 << 16
        while cut > 0:
            begin = max(0, cut - chunk)
            handle.seek(begin)
            newline = handle.read(cut - begin).rfind(b"\n")
            if newline >= 0:
                cut = begin + newline + 1
                break
            cut = begin
        handle.seek(cut)
        aside = path.with_name(f"{path.name}.partial-{time.strftime('%Y%m%dT%H%M%S')}")
        aside.write_bytes(handle.read())
        handle.truncate(cut)
    return aside


def _startup_failure(
    settings: CollectorSettings, log_path: Path, offset: int, code: int
) -> CollectorError:
    with open(log_path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    bind = _BIND_ERROR.search(text)
    if bind:
        return _port_taken_error(settings, int(bind.group(1)), f" (log: {log_path})")
    tail = "\n".join(text.strip().splitlines()[-10:])
    return CollectorError(f"the Collector exited with code {code} while starting:\n{tail}")


def _remember(collector: RunningCollector) -> None:
    s = collector.settings
    (s.state_dir / PID_FILE).write_text(f"{collector.pid}\n")
    lines = {
        "pid": collector.pid,
        "host": s.host,
        **s.ports,
        "configs": os.pathsep.join(str(c) for c in s.configs),
        "forward_endpoint": s.forward_endpoint or "",
    }
    (s.state_dir / RUN_FILE).write_text("".join(f"{k}={v}\n" for k, v in lines.items()))


def _forget(settings: CollectorSettings) -> None:
    for name in (PID_FILE, RUN_FILE):
        (settings.state_dir / name).unlink(missing_ok=True)


def _is_collector(pid: int) -> bool:
    """True when ``pid`` is a live Collector (not a zombie, not a recycled pid)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return any(BINARY_NAME in part or "otelcol" in part for part in proc.cmdline()[:1])
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def running(data_dir: Path) -> RunningCollector | None:
    """The Collector started for ``data_dir`` (from its pid file), if it is still alive."""
    state_dir = Path(data_dir).resolve() / conv.COLLECTOR_SUBDIR
    run_file = state_dir / RUN_FILE
    if not run_file.is_file():
        return None
    fields = dict(
        line.split("=", 1) for line in run_file.read_text().splitlines() if "=" in line
    )
    pid = int(fields["pid"])
    if not _is_collector(pid):
        return None
    settings = CollectorSettings(
        data_dir=state_dir.parent,
        host=fields["host"],
        grpc_port=int(fields[conv.ENV_OTLP_GRPC_PORT]),
        http_port=int(fields[conv.ENV_OTLP_HTTP_PORT]),
        health_port=int(fields[conv.ENV_COLLECTOR_HEALTH_PORT]),
        metrics_port=int(fields[conv.ENV_COLLECTOR_METRICS_PORT]),
        configs=[Path(c) for c in fields["configs"].split(os.pathsep) if c],
        forward_endpoint=fields.get("forward_endpoint") or None,
    )
    return RunningCollector(settings, pid)
