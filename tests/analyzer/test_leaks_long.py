"""Leak statistics on long series (100,000 samples and more): a slow leak under heavy noise is
found, a flat noisy series is not, and both stay fast (the series are summarised to
leaks.MAX_POINTS bucket medians before Theil-Sen / Mann-Kendall)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from swarmscope.analyzer import leaks
from swarmscope.analyzer.config import load_config

MB = 1_000_000
DAY_AT_1HZ = 86_400
LEVEL = 100 * MB  # a typical agent's RSS
NOISE = 20 * MB  # standard deviation of the sample-to-sample noise


def _rss(kind: str, seed: int, n: int = DAY_AT_1HZ, slope_per_h: float = 1 * MB) -> tuple:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)  # 24 h at 1 Hz
    y = LEVEL + rng.normal(0, NOISE, n)
    if kind == "leak":
        y = y + slope_per_h * t / 3600
    elif kind == "spiky":  # flat with rare big spikes (a cache filled and dropped)
        spikes = rng.random(n) < 0.001
        y = y + spikes * 200 * MB
    return t, y


def _verdict(t, y) -> leaks.TrendResult:
    result = leaks.analyse_with(load_config(None).leaks, "rss", t, y)
    assert result is not None
    return result


@pytest.mark.parametrize("seed", range(3))
def test_slow_leak_under_heavy_noise_is_found_in_a_day_at_1hz(seed: int) -> None:
    t, y = _rss("leak", seed)
    started = time.perf_counter()
    result = _verdict(t, y)
    elapsed = time.perf_counter() - started
    assert result.leak, result
    assert result.samples == len(t) - int(len(t) * 0.25)  # the raw count after warm-up
    assert result.slope * 3600 == pytest.approx(1 * MB, rel=0.25)
    assert elapsed < 2.0, f"{elapsed:.2f} s for {len(t):,} samples"


@pytest.mark.parametrize("kind", ["flat", "spiky"])
@pytest.mark.parametrize("seed", range(5))
def test_flat_noisy_day_is_not_a_leak(kind: str, seed: int) -> None:
    t, y = _rss(kind, seed)
    assert not _verdict(t, y).leak


def test_hundred_thousand_samples_stay_fast() -> None:
    t, y = _rss("leak", 7, n=100_000)
    started = time.perf_counter()
    _verdict(t, y)
    assert time.perf_counter() - started < 2.0


def test_bucket_medians_keep_a_trend_and_bound_the_points() -> None:
    t = np.arange(100_001, dtype=float)
    bt, by = leaks.bucket_medians(t, 2 * t, 1000)
    assert len(bt) == len(by) == 1000
    assert np.allclose(by, 2 * bt)
    assert bt[0] < 100 and bt[-1] > 99_900
    short = np.arange(10.0)
    assert leaks.bucket_medians(short, short, 1000)[0] is short


def test_an_hour_of_the_same_leak_is_honestly_too_little_to_tell() -> None:
    # 1 MB/h is 1 MB of growth in an hour under 20 MB of noise: a verdict then would be a guess
    t, y = _rss("leak", 0, n=3600)
    assert not _verdict(t, y).leak
