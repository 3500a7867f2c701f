"""The scoring curve, letter bands and assessment words."""

from __future__ import annotations

import pytest
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.scoring import (
    assessment_word,
    letter_grade,
    log_normal_score,
    meets_grade,
    weighted_mean,
)


def test_curve_passes_through_both_control_points_lower_is_better() -> None:
    assert log_normal_score(1.0, p10=1.0, median=2.0) == pytest.approx(90.0, abs=0.01)
    assert log_normal_score(2.0, p10=1.0, median=2.0) == pytest.approx(50.0, abs=0.01)
    assert log_normal_score(0.0, p10=1.0, median=2.0) == 100.0
    # monotone: a worse (higher) figure never scores better
    scores = [log_normal_score(x, 1.0, 2.0) for x in (0.1, 0.5, 1, 2, 4, 8)]
    assert scores == sorted(scores, reverse=True)


def test_curve_direction_flips_when_higher_is_better() -> None:
    assert log_normal_score(95.0, p10=95.0, median=80.0) == pytest.approx(90.0, abs=0.01)
    assert log_normal_score(80.0, p10=95.0, median=80.0) == pytest.approx(50.0, abs=0.01)
    assert log_normal_score(99.0, 95.0, 80.0) > 90 > log_normal_score(90.0, 95.0, 80.0)
    assert log_normal_score(0.0, 95.0, 80.0) == 0.0


def test_curve_rejects_degenerate_control_points() -> None:
    with pytest.raises(ValueError):
        log_normal_score(1.0, 2.0, 2.0)


def test_letters_with_plus_and_minus() -> None:
    bands = load_config().bands
    got = [letter_grade(s, bands) for s in (100, 97, 95, 90, 89, 83, 80, 72, 61, 59.9)]
    assert got == ["A+", "A+", "A", "A-", "B+", "B", "B-", "C-", "D-", "F"]
    assert letter_grade(None, bands) == "n/a"


def test_min_grade_bare_letter_accepts_whole_band() -> None:
    bands = load_config().bands
    assert meets_grade(80.0, "B", bands)
    assert not meets_grade(79.9, "B", bands)
    assert not meets_grade(82.0, "B", bands) or meets_grade(82.0, "B-", bands)
    assert not meets_grade(85.0, "B+", bands)
    assert not meets_grade(None, "F", bands)
    with pytest.raises(ValueError):
        meets_grade(90.0, "E", bands)


def test_weighted_mean_and_words() -> None:
    assert weighted_mean([(100, 1), (50, 3)]) == pytest.approx(62.5)
    assert weighted_mean([(100, 0)]) is None
    words = load_config().assessment
    assert [assessment_word(s, words) for s in (95, 80, 65, 10, None)] == [
        "EXCELLENT", "GOOD", "MODERATE", "POOR", "NOT MEASURED"]
