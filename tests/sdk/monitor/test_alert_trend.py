"""The live leak test (pure Python, bounded window) and the alert thresholds it reads."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest
from swarmscope import procfs
from swarmscope.monitor import alert_config
from swarmscope.monitor.trend import Trend
from swarmscope.settings import ConfigError

ROOT = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024


def _first_alert(values: list[float], series: str = "rss") -> int | None:
    rule = alert_config.load().leak
    trend = Trend(rule, rule.growth[series], born=0.0)
    for i, value in enumerate(values):
        if trend.add(100.0 + i, value) is not None:
            return i
    return None


@pytest.mark.parametrize("seed", range(10))
def test_a_flat_noisy_series_never_alerts(seed: int) -> None:
    rng = random.Random(seed)
    # 30 MiB give or take 6 MiB, with the odd 20 MiB spike, for ten minutes at 1 Hz
    values = [30 * MIB + rng.gauss(0, 6 * MIB) + (20 * MIB if rng.random() < 0.03 else 0)
              for _ in range(400)]  # fmt: skip
    assert _first_alert(values) is None


def test_a_sawtooth_that_always_returns_to_its_level_never_alerts() -> None:
    values = [40 * MIB + (i % 25) * MIB for i in range(400)]  # grows, collected, grows ...
    assert _first_alert(values) is None


def test_a_steady_leak_under_noise_alerts_within_the_window() -> None:
    rng = random.Random(1)
    values = [30 * MIB + 0.5 * MIB * i + rng.gauss(0, 2 * MIB) for i in range(300)]
    found = _first_alert(values)
    rule = alert_config.load().leak
    assert found is not None and found < rule.window + rule.confirm


def test_a_leak_during_warm_up_only_does_not_alert() -> None:
    rule = alert_config.load().leak
    trend = Trend(rule, rule.growth["rss"], born=0.0)
    # start-up growth within warmup_seconds, then flat
    hits = [trend.add(float(t), (10 + min(t, rule.warmup_seconds) * 4) * MIB)
            for t in range(300)]  # fmt: skip
    assert not any(hits)


def test_the_shared_lines_match_the_reports_control_points() -> None:
    """System memory alerts where the report warns; the leak growth is the report's or more."""
    points = tomllib.loads((ROOT / "analyzer" / "control_points.toml").read_text())
    alerts = alert_config.load()
    assert alerts.system_memory == points["thresholds"]["memory"]["system_peak_warning"]
    assert alerts.leak.alpha <= points["leaks"]["alpha"]
    for series in ("rss", "fds", "threads"):
        report = points["leaks"][series]
        assert alerts.leak.growth[series].min_relative >= report["min_relative_growth"]
        assert alerts.leak.growth[series].min_absolute >= report["min_absolute_growth"]
    process = points["thresholds"]["processes"]
    assert alerts.daemon_min_age == process["long_lived_seconds"]
    assert alerts.daemon_min_overlap == process["duplicate_overlap_seconds"]


def test_an_override_file_changes_only_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("[fds]\nshare_of_limit = 0.5\n[leak.rss]\nmin_absolute_growth = 1.0\n")
    loaded = alert_config.load(path)
    assert loaded.fd_share == 0.5 and loaded.leak.growth["rss"].min_absolute == 1.0
    assert loaded.system_memory == alert_config.load().system_memory


@pytest.mark.parametrize("text, words", [
    ("[fds]\nshare_of_limit = 'x'\n", "fds.share_of_limit must be a number"),
    ("[nope]\nx = 1\n", "unknown key 'nope'"),
    ("[leak]\nwindow = 2.5\n", "leak.window must be a whole number"),
    ("[leak]\nmin_samples = 500\n", "must not exceed leak.window"),
    ("not toml [", "is not valid TOML"),
])  # fmt: skip
def test_a_bad_override_names_the_setting_and_the_key(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "a.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        alert_config.load(path)
    assert "SWARMSCOPE_ALERTS" in str(error.value) and words in str(error.value)


def test_procfs_reads_a_processes_own_open_files_limit() -> None:
    import os
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = None if soft == resource.RLIM_INFINITY else soft
    assert procfs.read_nofile_limit(os.getpid()) == expected
    assert procfs.read_nofile_limit(2**22 + 1) is None  # no such process
