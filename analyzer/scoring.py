"""Scores and grades: the log-normal curve, weighted means, letters and assessment words.

Every raw figure becomes a 0-100 score on a log-normal curve through two control points
(the Lighthouse method): the value that earns 90 (``p10``) and the value that earns 50
(``median``). When ``p10 < median`` lower values are better (memory share, load per core,
leak count); when ``p10 > median`` higher values are better. Dimension scores are weighted
means of their figures, the overall score a weighted mean of the dimensions. The control
points, weights and bands come from ``config.py``.
"""

from __future__ import annotations

import math

# erf^-1(0.8): puts the p10 control point exactly on a score of 90.
_P10_ERF = 0.9062


# --- the curve -------------------------------------------------------------------------------


def log_normal_score(value: float, p10: float, median: float) -> float:
    """Score 0-100 for ``value`` on the log-normal curve through (p10, 90) and (median, 50)."""
    if p10 <= 0 or median <= 0 or p10 == median:
        raise ValueError(f"control points need 0 < p10 != median, got p10={p10} median={median}")
    lower_is_better = p10 < median
    if value <= 0:
        # ln(0) is -inf: the best value for "lower is better", the worst otherwise.
        return 100.0 if lower_is_better else 0.0
    z = math.log(value / median) * _P10_ERF / -math.log(p10 / median)
    score = (1.0 - math.erf(z)) / 2.0 * 100.0
    return min(100.0, max(0.0, score))


def weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    """Weighted mean of (score, weight) pairs; None when nothing carries weight."""
    total = sum(w for _, w in pairs if w > 0)
    if total <= 0:
        return None
    return sum(s * w for s, w in pairs if w > 0) / total


# --- letters and words -----------------------------------------------------------------------

_LETTER_ORDER = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")


def letter_grade(score: float | None, bands: dict[str, float]) -> str:
    """A-F with +/-: within a 10-point band the top 3 points earn "+", the bottom 3 "-"."""
    if score is None:
        return "n/a"
    for letter in ("A", "B", "C", "D"):
        lower = bands[letter]
        if score >= lower:
            width = _band_width(letter, bands)
            if score >= lower + width * 0.7:
                return letter + "+"
            if score < lower + width * 0.3:
                return letter + "-"
            return letter
    return "F"


def _band_width(letter: str, bands: dict[str, float]) -> float:
    upper = {"A": 100.0, "B": bands["A"], "C": bands["B"], "D": bands["C"]}[letter]
    return max(upper - bands[letter], 1e-9)


def grade_rank(grade: str) -> int:
    """Order of a letter grade (F lowest); raises ValueError for an unknown grade."""
    grade = grade.strip().upper()
    if grade not in _LETTER_ORDER:
        raise ValueError(f"unknown grade {grade!r}; use one of {', '.join(_LETTER_ORDER)}")
    return _LETTER_ORDER.index(grade)


def meets_grade(score: float | None, minimum: str, bands: dict[str, float]) -> bool:
    """Whether a score reaches ``minimum``; a bare letter ("B") accepts the whole band (B-)."""
    if score is None:
        return False
    minimum = minimum.strip().upper()
    if len(minimum) == 1 and minimum != "F":
        minimum += "-"
    return grade_rank(letter_grade(score, bands)) >= grade_rank(minimum)


def assessment_word(score: float | None, words: dict[str, float]) -> str:
    """EXCELLENT / GOOD / MODERATE / POOR from the configured lower bounds."""
    if score is None:
        return "NOT MEASURED"
    for word in ("excellent", "good", "moderate"):
        if score >= words[word]:
            return word.upper()
    return "POOR"
