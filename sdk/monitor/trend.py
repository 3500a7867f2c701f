"""A leak trend judged while it happens: pure Python, on a bounded window, cheap per sample.

The analyzer's leak verdict (analyzer/leaks.py: Mann-Kendall plus the Theil-Sen slope's
lower confidence bound, with numpy and scipy) runs once per session. A live alert repeats the
test every sample on a sliding window, inside the monitor of the session it watches, so this
module does the same two tests in pure Python on the last ``window`` samples, and more
conservatively:

* Mann-Kendall's variance ignores ties (larger, so a tied series is less significant);
* the window must span ``min_seconds`` with ``min_samples`` samples, all after the process's
  first ``warmup_seconds`` (start-up growth is not a leak);
* ``confirm`` consecutive windows must agree;
* a series whose range over the window is smaller than the growth a leak needs is never tested
  (most series, most of the time: the test costs O(window²) only when it could pass).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist, median

from swarmscope.monitor.alert_config import Growth, LeakRule


@dataclass(frozen=True)
class TrendVerdict:
    """The test on one window."""

    slope: float  # Theil-Sen, units per second
    low_slope: float  # its lower confidence bound (one-sided, 1 - alpha)
    p_value: float  # Mann-Kendall, one-sided, upward
    sure_growth: float  # low_slope * window span: growth the data supports with confidence
    level: float  # median of the window
    samples: int
    seconds: float
    leak: bool


def mann_kendall_p(values: list[float]) -> float:
    """One-sided p-value of an upward trend (no tie correction: conservative)."""
    n = len(values)
    s = 0
    for i in range(n - 1):
        a = values[i]
        for b in values[i + 1 :]:
            s += (b > a) - (b < a)
    if s <= 0:
        return 1.0
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = (s - 1) / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def theil_sen(times: list[float], values: list[float], alpha: float) -> tuple[float, float]:
    """(median slope, lower confidence bound at one-sided ``alpha``), as Sen (1968) and
    scipy's ``theilslopes`` place it."""
    n = len(values)
    slopes = sorted(
        (values[j] - values[i]) / (times[j] - times[i])
        for i in range(n - 1)
        for j in range(i + 1, n)
        if times[j] > times[i]
    )
    if not slopes:
        return 0.0, 0.0
    z = NormalDist().inv_cdf(1.0 - alpha)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    low = int(round((len(slopes) - z * math.sqrt(var)) / 2.0))
    return median(slopes), slopes[min(max(low, 0), len(slopes) - 1)]


def judge(times: list[float], values: list[float], alpha: float, growth: Growth) -> TrendVerdict:
    """Both tests on one window (at least three samples)."""
    level = median(values)
    seconds = times[-1] - times[0]
    slope, low = theil_sen(times, values, alpha)
    p = mann_kendall_p(values)
    sure = low * seconds
    relative = sure / abs(level) if level else (math.inf if sure > 0 else 0.0)
    leak = (p < alpha and low > 0 and sure >= growth.min_absolute
            and relative >= growth.min_relative)  # fmt: skip
    return TrendVerdict(slope, low, p, sure, level, len(values), seconds, leak)


class Trend:
    """The last ``rule.window`` samples of one series of one process, judged as they come."""

    __slots__ = ("rule", "growth", "born", "times", "values", "streak", "last")

    def __init__(self, rule: LeakRule, growth: Growth, born: float) -> None:
        self.rule, self.growth, self.born = rule, growth, born
        self.times: deque[float] = deque(maxlen=rule.window)
        self.values: deque[float] = deque(maxlen=rule.window)
        self.streak = 0  # consecutive windows judged a leak
        self.last: TrendVerdict | None = None

    def add(self, t: float, value: float) -> TrendVerdict | None:
        """Add a sample; the window's verdict once ``confirm`` windows in a row found a leak,
        else None."""
        if t < self.born + self.rule.warmup_seconds or not math.isfinite(value):
            return None
        if self.times and t <= self.times[-1]:
            return None  # out of order or repeated: the window stays monotonic
        self.times.append(t)
        self.values.append(value)
        verdict = self.judge()
        self.last = verdict
        self.streak = self.streak + 1 if verdict is not None and verdict.leak else 0
        return verdict if self.streak >= self.rule.confirm else None

    def judge(self) -> TrendVerdict | None:
        """The current window's verdict; None while it is too short or cannot pass."""
        rule, values = self.rule, self.values
        if len(values) < rule.min_samples or self.times[-1] - self.times[0] < rule.min_seconds:
            return None
        if not self._could_leak():
            return None  # cannot have grown by as much as a leak needs: skip the O(n²) test
        return judge(list(self.times), list(values), rule.alpha, self.growth)

    def _could_leak(self) -> bool:
        """A cheap necessary condition: the last third's median above the first third's by
        half the growth a leak needs (a steady leak of growth G moves it by about 2G/3)."""
        high, low = max(self.values), min(self.values)
        if high - low < self.growth.min_absolute:
            return False
        values = list(self.values)
        third = max(1, len(values) // 3)
        first, last = median(values[:third]), median(values[-third:])
        rise = last - first
        level = abs(median(values)) or 1.0
        return rise >= self.growth.min_absolute / 2 and rise / level >= self.growth.min_relative / 2
