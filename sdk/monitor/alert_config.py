"""The live alert thresholds: ``alerts.toml`` shipped in the package, merged with the user's
``SWARMSCOPE_ALERTS`` file (only the keys it names).

The sdk reads its own small TOML rather than the analyzer's ``control_points.toml``: an
instrumented agent process must alert without the analyzer installed or imported (the sdk never
imports it), and a live alert is a different test from the report's verdict (a sliding window
judged every sample, so its leak test is stricter). Where both judge one figure the defaults are
the same line, and a test keeps them so (docs/live.md).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from swarmscope import conventions as c
from swarmscope import settings as config
from swarmscope.settings import ConfigError

LEAK_SERIES = ("rss", "fds", "threads")


@dataclass(frozen=True)
class Growth:
    """How much a series must grow over the window (lower confidence bound) to be a leak."""

    min_relative: float
    min_absolute: float


@dataclass(frozen=True)
class LeakRule:
    alpha: float
    window: int
    min_samples: int
    min_seconds: float
    warmup_seconds: float
    confirm: int
    growth: dict[str, Growth]


@dataclass(frozen=True)
class AlertThresholds:
    system_memory: float
    fd_share: float
    leak: LeakRule
    orphan_grace: float
    daemon_min_age: float
    daemon_min_overlap: float


def default_text() -> str:
    return resources.files("swarmscope").joinpath(c.ALERTS_FILE).read_text(encoding="utf-8")


def load(path: Path | None = None) -> AlertThresholds:
    """The thresholds: defaults, then ``path`` (default ``$SWARMSCOPE_ALERTS``) over them.
    Raises :class:`ConfigError` naming ``SWARMSCOPE_ALERTS`` and the key for a bad value."""
    raw = tomllib.loads(default_text())
    path = path if path is not None else config.alert_thresholds_file()
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(c.ENV_ALERTS, f"cannot read {str(path)!r}: "
                              f"{error.strerror or error}") from None  # fmt: skip
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(c.ENV_ALERTS, f"{str(path)!r} is not valid TOML: {error}") from None
        _merge(raw, user, "")
    return _build(raw)


def _merge(base: dict[str, Any], override: dict[str, Any], prefix: str) -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(c.ENV_ALERTS, f"unknown key {dotted!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(c.ENV_ALERTS, f"{dotted!r} must be a table")
            _merge(base[key], value, dotted + ".")
        else:
            base[key] = value


def _number(table: dict[str, Any], key: str, dotted: str, *, low: float = 0.0,
            high: float | None = None, whole: bool = False) -> float:  # fmt: skip
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ConfigError(c.ENV_ALERTS, f"{dotted}.{key} must be a number, got {value!r}")
    if value < low or (high is not None and value > high) or (whole and value != int(value)):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        kind = "a whole number " if whole else ""
        raise ConfigError(c.ENV_ALERTS, f"{dotted}.{key} must be {kind}{bound}, got {value!r}")
    return float(value)


def _build(raw: dict[str, Any]) -> AlertThresholds:
    leak = raw["leak"]
    growth = {
        name: Growth(_number(leak[name], "min_relative_growth", f"leak.{name}"),
                     _number(leak[name], "min_absolute_growth", f"leak.{name}"))
        for name in LEAK_SERIES
    }  # fmt: skip
    rule = LeakRule(
        alpha=_number(leak, "alpha", "leak", low=1e-12, high=0.5),
        window=int(_number(leak, "window", "leak", low=8, high=10_000, whole=True)),
        min_samples=int(_number(leak, "min_samples", "leak", low=8, whole=True)),
        min_seconds=_number(leak, "min_seconds", "leak"),
        warmup_seconds=_number(leak, "warmup_seconds", "leak"),
        confirm=int(_number(leak, "confirm", "leak", low=1, whole=True)),
        growth=growth,
    )
    if rule.min_samples > rule.window:
        raise ConfigError(c.ENV_ALERTS, f"leak.min_samples ({rule.min_samples}) must not exceed "
                          f"leak.window ({rule.window})")  # fmt: skip
    daemon = raw["duplicate_daemon"]
    return AlertThresholds(
        system_memory=_number(raw["system_memory"], "utilization", "system_memory", high=1.0),
        fd_share=_number(raw["fds"], "share_of_limit", "fds", high=1.0),
        leak=rule,
        orphan_grace=_number(raw["orphan"], "grace_seconds", "orphan"),
        daemon_min_age=_number(daemon, "min_age_seconds", "duplicate_daemon"),
        daemon_min_overlap=_number(daemon, "min_overlap_seconds", "duplicate_daemon"),
    )
