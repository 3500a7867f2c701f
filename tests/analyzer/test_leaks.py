"""Leak verdicts: significant trend AND a slope that matters; flat noise is never a leak."""

from __future__ import annotations

import numpy as np
import pytest
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.leaks import analyse_series, analyse_with

SETTINGS = dict(alpha=0.01, warmup_fraction=0.25, min_samples=8,
                min_relative_growth=0.10, min_absolute_growth=2 * 2**20)


def test_steady_growth_is_a_leak() -> None:
    t = np.arange(40) * 0.25
    rss = 50e6 + 4e6 * t + np.random.default_rng(1).normal(0, 2e5, t.size)
    res = analyse_series(t, rss, **SETTINGS)
    assert res is not None and res.leak
    assert res.slope == pytest.approx(4e6, rel=0.1)
    assert res.p_value < 0.001


def test_noisy_flat_series_is_not_a_leak() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(200) * 0.25
    rss = 80e6 + rng.normal(0, 8e6, t.size)  # 10 % noise, no trend
    res = analyse_series(t, rss, **SETTINGS)
    assert res is not None and not res.leak


def test_significant_but_tiny_slope_is_not_a_leak() -> None:
    t = np.arange(60) * 0.25
    rss = 100e6 + 1000 * t  # perfectly monotone, 15 kB over the window on 100 MB
    res = analyse_series(t, rss, **SETTINGS)
    assert res is not None and res.p_value < 0.01 and not res.leak


def test_startup_ramp_is_skipped_as_warmup() -> None:
    t = np.arange(40) * 0.25
    rss = np.where(t < 2.0, 10e6 + 25e6 * t, 60e6) + np.random.default_rng(3).normal(0, 1e5, 40)
    res = analyse_series(t, rss, **SETTINGS)
    assert res is not None and not res.leak


def test_constant_and_short_series() -> None:
    t = np.arange(20.0)
    res = analyse_series(t, np.full(20, 5.0), **SETTINGS)
    assert res is not None and not res.leak and res.p_value == 1.0
    assert analyse_series(t[:5], t[:5], **SETTINGS) is None


def test_fd_leak_with_configured_thresholds() -> None:
    settings = load_config().leaks
    t = np.arange(30) * 0.2
    fds = 8 + np.floor(t * 5)  # one new descriptor every 0.2 s
    res = analyse_with(settings, "fds", t, fds)
    assert res is not None and res.leak
    flat = analyse_with(settings, "fds", t, 8 + (np.arange(30) % 2))
    assert flat is not None and not flat.leak


def test_wide_random_swings_with_a_lucky_upward_tail_are_not_a_leak() -> None:
    # RSS of an agent replacing a 1-40 MiB buffer each round: a flat floor, random peaks
    # that happened to cluster late. Kendall's tau is "significant"; the slope is not sure.
    mib = [41.7, 41.9, 74.7, 41.7, 69.7, 42.7, 42.7, 42.7, 79.7, 42.7, 42.7, 79.7, 42.7, 42.7,
           78.7, 42.7, 65.7, 65.7, 75.7, 75.7, 55.8, 54.8, 47.7, 83.7, 84.7, 87.7, 62.8]
    t = np.arange(len(mib)) * 0.2
    res = analyse_series(t, np.array(mib) * 2**20, **{**SETTINGS, "warmup_fraction": 0.0})
    assert res is not None and res.p_value < 0.05 and not res.leak
