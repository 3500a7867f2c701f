"""Leak verdicts for one agent series (RSS, heap blocks, FDs, threads).

A leak needs two things: a statistically significant upward trend (Mann-Kendall, i.e.
Kendall's tau of the values against time) and a robust slope (Theil-Sen) whose growth over
the analysed window matters relative to the series' level - judged on the lower confidence
bound of the slope, so a wide, noisy swing cannot pass for growth by chance. Noisy but flat
series fail one of the two; a short start-up ramp is skipped as warm-up.

Long series are summarised before the statistics: Theil-Sen looks at every pair of points
(O(n^2) time and memory), so a day at 1 Hz (86,400 samples) cannot be fed to it whole. After
warm-up, a series longer than MAX_POINTS is cut into MAX_POINTS runs of consecutive samples of
(nearly) equal count, and each run becomes one point: the median time and the median value of
its samples. Medians keep the trend (a steady slope moves every run's median with it) and
shrink independent noise by about 1.25 / sqrt(run length), while one spike moves only its own
run's median; the tests then see MAX_POINTS independent points, so the p-value stays honest for
noise that is independent sample to sample. ``samples`` in the result is the raw count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

MAX_POINTS = 1000  # Theil-Sen over 1,000 points is ~500,000 pairwise slopes: a few ms


@dataclass(frozen=True)
class TrendResult:
    slope: float  # units per second
    low_slope: float  # lower confidence bound of the slope (confidence 1 - 2 alpha)
    p_value: float  # one-sided, upward trend
    tau: float
    relative_growth: float  # slope * window / median level
    absolute_growth: float  # slope * window
    level: float
    samples: int
    leak: bool


def analyse_series(
    times_s: np.ndarray | list[float],
    values: np.ndarray | list[float],
    *,
    alpha: float,
    warmup_fraction: float,
    min_samples: int,
    min_relative_growth: float,
    min_absolute_growth: float,
) -> TrendResult | None:
    """Trend statistics after warm-up; None when too few samples remain for a verdict."""
    t = np.asarray(times_s, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    skip = int(len(t) * warmup_fraction)
    t, y = t[skip:], y[skip:]
    if len(t) < max(min_samples, 3) or t[-1] <= t[0]:
        return None
    level = float(np.median(y))
    samples = len(t)
    if np.ptp(y) == 0:
        return TrendResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, level, samples, False)
    window = float(t[-1] - t[0])
    t, y = bucket_medians(t, y, MAX_POINTS)
    fit = stats.theilslopes(y, t, alpha=1 - 2 * alpha)
    slope, low = float(fit.slope), float(fit.low_slope)
    tau_res = stats.kendalltau(t, y, alternative="greater")
    tau = float(tau_res.statistic) if np.isfinite(tau_res.statistic) else 0.0
    p_value = float(tau_res.pvalue) if np.isfinite(tau_res.pvalue) else 1.0
    absolute = slope * window
    relative = absolute / abs(level) if level else (np.inf if absolute > 0 else 0.0)
    sure_growth = low * window  # growth the data supports with confidence
    leak = (
        p_value < alpha
        and low > 0
        and sure_growth >= min_absolute_growth
        and (sure_growth / abs(level) if level else np.inf) >= min_relative_growth
    )
    return TrendResult(slope, low, p_value, tau, float(relative), absolute, level, samples,
                       bool(leak))


def bucket_medians(t: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: medians of time and value over runs of consecutive
    samples of (nearly) equal count; a series that short already is returned as it is."""
    if len(t) <= max_points:
        return t, y
    edges = np.linspace(0, len(t), max_points + 1).astype(np.int64)
    width = int(np.max(np.diff(edges)))
    # pad each run to one width with NaN so one vectorised nanmedian handles all runs
    index = edges[:-1, None] + np.arange(width)[None, :]
    inside = index < edges[1:, None]
    index = np.where(inside, index, 0)
    bt = np.where(inside, t[index], np.nan)
    by = np.where(inside, y[index], np.nan)
    return np.nanmedian(bt, axis=1), np.nanmedian(by, axis=1)


def analyse_with(
    settings: dict[str, Any], kind: str, times_s: Any, values: Any
) -> TrendResult | None:
    """``analyse_series`` with the thresholds of ``[leaks]`` and ``[leaks.<kind>]``."""
    per_kind = settings[kind]
    return analyse_series(
        times_s,
        values,
        alpha=float(settings["alpha"]),
        warmup_fraction=float(settings["warmup_fraction"]),
        min_samples=int(settings["min_samples"]),
        min_relative_growth=float(per_kind["min_relative_growth"]),
        min_absolute_growth=float(per_kind["min_absolute_growth"]),
    )
