"""Every setting swarmscope reads: arguments first, then environment variables, then defaults.

This is the one module that reads ``SWARMSCOPE_*`` and ``OTEL_*`` variables. Every setting is
validated here, so a mistake surfaces as one :class:`ConfigError` that names the setting (and
its environment variable) instead of a traceback from deep inside an exporter thread.

One rule for every boolean (:func:`parse_flag`): ``1 true yes on`` are true, ``0 false no off``
and empty are false, in any case; any other word is a :class:`ConfigError`.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmscope import conventions as c

EXPORTERS = ("file", "otlp", "none")
PROTOCOLS = ("grpc", "http/protobuf")
DEFAULT_EXPORT_TIMEOUT_S = 3.0  # an unreachable endpoint must not hold the program for long
DEFAULT_SHUTDOWN_TIMEOUT_S = 5.0

# Standard OpenTelemetry variables we read (the OTLP exporters read the rest themselves).
OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
OTEL_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTEL_METRICS_ENDPOINT = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
OTEL_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_TIMEOUT = "OTEL_EXPORTER_OTLP_TIMEOUT"
# Variables a child process needs to export where its parent does.
OTEL_PASS_THROUGH = (
    OTEL_SERVICE_NAME,
    OTEL_ENDPOINT,
    OTEL_TRACES_ENDPOINT,
    OTEL_METRICS_ENDPOINT,
    OTEL_PROTOCOL,
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    OTEL_TIMEOUT,
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_RESOURCE_ATTRIBUTES",
)


class ConfigError(ValueError):
    """A setting has a value swarmscope cannot work with; the message names the setting."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"invalid setting {setting}: {message}")
        self.setting = setting


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process's telemetry."""

    service_name: str
    session_id: str
    session_inherited: bool  # True when the session id came from a parent process
    data_dir: Path
    exporter: str
    endpoint: str | None
    protocol: str
    export_timeout: float
    sample_interval: float
    monitor: bool
    monitored_by: int | None
    swarm: dict[str, str | int] = field(default_factory=dict)
    record_command_lines: bool = False  # read once, so a bad word fails at init()


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def parse_flag(value: str | bool | None, setting: str, default: bool = False) -> bool:
    """The one boolean rule; ``setting`` names the variable in the error."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(setting, f"expected one of 1/true/yes/on or 0/false/no/off, got {value!r}")


def flag(name: str, default: bool = False) -> bool:
    """An environment variable read as a boolean under :func:`parse_flag`'s rule."""
    return parse_flag(os.environ.get(name), name, default)


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit``, else ``SWARMSCOPE_DATA_DIR``, else ``./swarmscope-data``.

    Always absolute (not symlink-resolved), so a path handed to a child process or written into
    a log means the same directory from any working directory.
    """
    return Path(explicit or _env(c.ENV_DATA_DIR) or c.DEFAULT_DATA_DIR).absolute()


def record_command_lines() -> bool:
    """Whether (redacted) command lines are recorded; off unless asked for."""
    return flag(c.ENV_RECORD_COMMAND_LINES)


def otel_pass_through() -> dict[str, str]:
    """The OTLP exporter variables of this process that a child needs to export where we do."""
    return {key: value for key in OTEL_PASS_THROUGH if (value := _env(key))}


def inherited_trace_carrier() -> dict[str, str]:
    """TRACEPARENT/TRACESTATE a parent handed us, keyed the way propagators read them."""
    return {
        key.lower(): value
        for key in (c.ENV_TRACEPARENT, c.ENV_TRACESTATE)
        if (value := _env(key))
    }


def agent_pattern() -> re.Pattern[str] | None:
    """``SWARMSCOPE_AGENT_PATTERN`` compiled: which child processes count as agents."""
    raw = _env(c.ENV_AGENT_PATTERN)
    if raw is None:
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        raise ConfigError(
            c.ENV_AGENT_PATTERN, f"{raw!r} is not a valid regular expression: {exc}"
        ) from None


def grading_config() -> Path | None:
    """``SWARMSCOPE_CONFIG``: a control-points TOML that overrides the defaults."""
    raw = _env(c.ENV_CONFIG)
    return Path(raw) if raw else None


def inherited_agent() -> tuple[str | None, str | None]:
    """(agent id, agent name) this process was started as, from its parent's environment."""
    agent_id = _env(c.ENV_AGENT_ID)
    return agent_id, _env(c.ENV_AGENT_NAME) or agent_id


def _number(value: object, setting: str, expected: str, ok: Callable[[float], bool],
            rule: str, parse: Callable[[Any], float] = float) -> Any:
    """``value`` parsed by ``parse`` and checked by ``ok``; a ConfigError naming ``setting``
    says what was ``expected`` (unparsable) or the ``rule`` it broke (out of bounds)."""
    try:
        number = parse(value)
    except (TypeError, ValueError):
        raise ConfigError(setting, f"expected {expected}, got {value!r}") from None
    if not ok(number):  # NaN fails every bound
        raise ConfigError(setting, f"must {rule}, got {value!r}")
    return number


def _env_number(name: str, default: float, expected: str, ok: Callable[[float], bool],
                rule: str) -> float:
    """The number environment variable ``name`` sets (see ``_number``), or ``default``."""
    raw = _env(name)
    return default if raw is None else _number(raw, name, expected, ok, rule)


def _positive_float(value: object, setting: str) -> float:
    return _number(value, setting, "a number of seconds", lambda n: n > 0,
                   "be greater than 0 seconds")


def _exporter(exporter: str | None, endpoint: str | None) -> str:
    chosen = exporter or _env(c.ENV_EXPORTER)
    if chosen is None:
        has_endpoint = endpoint or any(
            _env(v) for v in (OTEL_ENDPOINT, OTEL_TRACES_ENDPOINT, OTEL_METRICS_ENDPOINT)
        )
        return "otlp" if has_endpoint else "file"
    chosen = chosen.lower()
    if chosen not in EXPORTERS:
        raise ConfigError(
            f"exporter ({c.ENV_EXPORTER})",
            f"unknown exporter {chosen!r}; expected one of {', '.join(EXPORTERS)}",
        )
    return chosen


def _protocol(protocol: str | None) -> str:
    chosen = (protocol or _env(OTEL_PROTOCOL) or "grpc").lower()
    if chosen not in PROTOCOLS:
        raise ConfigError(
            f"protocol ({OTEL_PROTOCOL})",
            f"unsupported protocol {chosen!r}; expected one of {', '.join(PROTOCOLS)}",
        )
    return chosen


def check_writable_dir(path: Path, setting: str) -> Path:
    """Create ``path`` if needed and prove a file can be written there (root ignores modes)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ConfigError(setting, f"directory {str(path)!r} is not writable ({error})") from None
    return path


def _max_agents(value: int | str | None) -> int | None:
    if value is None:
        return None
    return _number(value, "max_agents", "a whole number", lambda n: n >= 0,
                   "not be negative", parse=int)


def resolve(
    *,
    service_name: str | None = None,
    session_id: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    exporter: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    sample_interval: float | None = None,
    topology: str | None = None,
    strategy: str | None = None,
    max_agents: int | None = None,
    persistence: str | bool | None = None,
    monitor: bool = True,
    export_timeout: float | None = None,
) -> Settings:
    """Resolve and validate the settings; raises :class:`ConfigError` naming the bad one."""
    chosen_exporter = _exporter(exporter, endpoint)
    interval_raw = sample_interval if sample_interval is not None else _env(c.ENV_SAMPLE_INTERVAL)
    interval = (
        c.DEFAULT_SAMPLE_INTERVAL_S
        if interval_raw is None
        else _positive_float(interval_raw, f"sample_interval ({c.ENV_SAMPLE_INTERVAL})")
    )
    timeout_raw = export_timeout if export_timeout is not None else _env(OTEL_TIMEOUT)
    # The Python OTLP exporters read OTEL_EXPORTER_OTLP_TIMEOUT as seconds; so do we.
    timeout = (
        DEFAULT_EXPORT_TIMEOUT_S
        if timeout_raw is None
        else _positive_float(timeout_raw, f"export timeout ({OTEL_TIMEOUT})")
    )
    directory = resolve_data_dir(data_dir)
    if chosen_exporter == "file":
        check_writable_dir(directory / "sdk", f"data_dir ({c.ENV_DATA_DIR})")
    inherited = _env(c.ENV_SESSION_ID)
    monitored_by = _env(c.ENV_MONITORED_BY)
    swarm: dict[str, str | int] = {}
    for key, value in (
        (c.SWARM_TOPOLOGY, topology),
        (c.SWARM_STRATEGY, strategy),
        (c.SWARM_PERSISTENCE, persistence),
    ):
        if value is not None:
            swarm[key] = str(value).lower() if isinstance(value, bool) else str(value)
    agents = _max_agents(max_agents)
    if agents is not None:
        swarm[c.SWARM_MAX_AGENTS] = agents
    return Settings(
        service_name=service_name or _env(OTEL_SERVICE_NAME) or "swarmscope",
        session_id=session_id or inherited or uuid.uuid4().hex,
        session_inherited=session_id is None and inherited is not None,
        data_dir=directory,
        exporter=chosen_exporter,
        endpoint=endpoint,
        protocol=_protocol(protocol),
        export_timeout=timeout,
        sample_interval=interval,
        monitor=monitor,
        monitored_by=int(monitored_by) if monitored_by and monitored_by.isdigit() else None,
        swarm=swarm,
        record_command_lines=record_command_lines(),
    )


# --- the Collector: what `swarmscope collector` fills otel-collector.yaml with ----------------
_COLLECTOR_PORTS = {
    "grpc_port": c.ENV_OTLP_GRPC_PORT,
    "http_port": c.ENV_OTLP_HTTP_PORT,
    "health_port": c.ENV_COLLECTOR_HEALTH_PORT,
    "metrics_port": c.ENV_COLLECTOR_METRICS_PORT,
}


def _port(name: str) -> int | None:
    raw = _env(name)
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(name, f"expected a port number (1-65535), got {raw!r}")
    return int(raw)


def collector_overrides() -> dict[str, object]:
    """The Collector settings the environment sets, as ``CollectorSettings`` field values;
    fields the environment leaves unset are absent (the Collector's defaults apply)."""
    found: dict[str, object] = {}
    for field_name, variable in _COLLECTOR_PORTS.items():
        if (port := _port(variable)) is not None:
            found[field_name] = port
    for field_name, variable in (
        ("host", c.ENV_COLLECTOR_HOST),
        ("forward_endpoint", c.ENV_FORWARD_ENDPOINT),
    ):
        if (value := _env(variable)) is not None:
            found[field_name] = value
    if (binary := _env(c.ENV_COLLECTOR_BIN)) is not None:
        found["binary"] = Path(binary)
    return found


# --- the watcher: hung workers, zombie grace, helper processes (docs/watcher.md) ---------------


def _seconds(name: str, default: float, *, allow_zero: bool) -> float:
    if allow_zero:
        return _env_number(name, default, "a number of seconds", lambda n: n >= 0,
                           "be 0 or more seconds")
    return _env_number(name, default, "a number of seconds", lambda n: n > 0,
                       "be greater than 0 seconds")


def hung_after() -> float:
    """``SWARMSCOPE_HUNG_AFTER``: seconds a process may sit blocked on a pipe or socket read,
    with no CPU time and no input, before the watcher reports it hung (default 30)."""
    return _seconds(c.ENV_HUNG_AFTER, c.DEFAULT_HUNG_AFTER_S, allow_zero=False)


# The Node.js preload's own idle cost is ~0.5 % of a core at the default 1 s interval
# (measured: docs/watcher.md); 2 % leaves room for a loaded machine and a GC.
DEFAULT_HUNG_NODE_CPU = 0.02


def hung_node_cpu() -> float:
    """``SWARMSCOPE_HUNG_NODE_CPU``: the share of one core (0 to 1, default 0.02) a Node.js
    process running swarmscope's preload may gain while it waits and still count as idle for
    the hung-worker rule: the preload's own timers wake it (docs/watcher.md)."""
    return _env_number(c.ENV_HUNG_NODE_CPU, DEFAULT_HUNG_NODE_CPU, "a share of a core",
                       lambda n: 0 <= n <= 1, "be between 0 and 1")


def zombie_grace() -> float:
    """``SWARMSCOPE_ZOMBIE_GRACE``: seconds a zombie may wait for its parent (or init) to reap
    it before it counts as left behind (default 3; 0 reports every zombie at once)."""
    return _seconds(c.ENV_ZOMBIE_GRACE, c.DEFAULT_ZOMBIE_GRACE_S, allow_zero=True)


def node_preload() -> bool:
    """``SWARMSCOPE_NODE_PRELOAD``: whether the Node.js programs swarmscope starts get the
    runtime-metrics preload in their NODE_OPTIONS (default on; docs/node.md)."""
    return flag(c.ENV_NODE_PRELOAD, default=True)


def helper_overrides() -> tuple[frozenset[str], frozenset[str]]:
    """``SWARMSCOPE_HELPERS``: comma-separated names added to the default helper list, and
    names written ``-name`` removed from it; returned as (added, removed)."""
    raw = _env(c.ENV_HELPERS) or ""
    added, removed = set(), set()
    for item in raw.split(","):
        word = " ".join(item.split())
        if word.startswith("-") and len(word) > 1 and not word.startswith("--"):
            removed.add(word[1:].strip())
        elif word:
            added.add(word)
    return frozenset(added), frozenset(removed)


def tracemalloc_mode() -> bool:
    """``SWARMSCOPE_TRACEMALLOC``: measure in-process agents' memory in exact bytes, with the
    top allocation sites, through tracemalloc (off by default: it slows allocation down;
    docs/performance.md has the figures)."""
    return flag(c.ENV_TRACEMALLOC)


# --- rotation of the embedded default's files (docs/performance.md, "Bounded disk") ------------

DEFAULT_ROTATE_MB = 16.0  # the live file stays raw while written: what archiving cannot shrink
DEFAULT_ROTATE_HOURS = 6.0


def _limit(name: str, default: float, unit: str) -> float:
    return _env_number(name, default, f"a number of {unit}",
                       lambda n: 0 <= n < float("inf"),
                       f"be 0 (never) or a positive number of {unit}")


def rotation_limits() -> tuple[int, float]:
    """``SWARMSCOPE_ROTATE_MB`` (default 16) and ``SWARMSCOPE_ROTATE_HOURS`` (default 6): when
    the sdk starts the next file of a signal, as (bytes, seconds); 0 turns that limit off."""
    megabytes = _limit(c.ENV_ROTATE_MB, DEFAULT_ROTATE_MB, "megabytes")
    hours = _limit(c.ENV_ROTATE_HOURS, DEFAULT_ROTATE_HOURS, "hours")
    return int(megabytes * 1_000_000), hours * 3600.0


def archive_rotated() -> bool:
    """``SWARMSCOPE_ARCHIVE_ROTATED`` (default on): archive (zstd) each file the sdk rotated
    away from, and at shutdown the last one of a stream that rotated (docs/performance.md,
    "Bounded disk": 2-3 % of the raw size)."""
    return flag(c.ENV_ARCHIVE_ROTATED, default=True)


# --- live alerts: thresholds and the command that hears of each alert (docs/live.md) ----------


def on_alert_command() -> str | None:
    """``SWARMSCOPE_ON_ALERT``: a shell command run with each alert as JSON on its stdin
    (``swarmscope run --on-alert CMD`` overrides it); None when unset."""
    return _env(c.ENV_ON_ALERT)


def alert_thresholds_file() -> Path | None:
    """``SWARMSCOPE_ALERTS``: a TOML file whose keys override the alert thresholds shipped in
    ``alerts.toml`` (only the keys it names); None when unset."""
    raw = _env(c.ENV_ALERTS)
    return Path(raw) if raw else None
