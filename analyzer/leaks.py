"""Leak verdicts for one agent series (RSS, heap blocks, FDs, threads).

A leak needs two things: a statistically significant upward trend (Mann-Kendall, i.e.
Kendall's tau of the values against time) and a robust slope (Theil-Sen) whose growth over
the analysed window matters relative to the series' level - judged on the lower confidence
bound of the slope, so a wide, noisy swing cannot pass for growth by chance. Noisy but flat
series fail one of the two; a short start-up ramp is skipped as warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats


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
    if np.ptp(y) == 0:
        return TrendResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, level, len(t), False)
    fit = stats.theilslopes(y, t, alpha=1 - 2 * alpha)
    slope, low = float(fit.slope), float(fit.low_slope)
    tau_res = stats.kendalltau(t, y, alternative="greater")
    tau = float(tau_res.statistic) if np.isfinite(tau_res.statistic) else 0.0
    p_value = float(tau_res.pvalue) if np.isfinite(tau_res.pvalue) else 1.0
    window = float(t[-1] - t[0])
    absolute = slope * window
    relative = absolute / abs(level) if level else (np.inf if absolute > 0 else 0.0)
    sure_growth = low * window  # growth the data supports with confidence
    leak = (
        p_value < alpha
        and low > 0
        and sure_growth >= min_absolute_growth
        and (sure_growth / abs(level) if level else np.inf) >= min_relative_growth
    )
    return TrendResult(slope, low, p_value, tau, float(relative), absolute, level, len(t),
                       bool(leak))


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
