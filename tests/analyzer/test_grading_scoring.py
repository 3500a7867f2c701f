"""The scoring curve, letter bands and the control-points configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from swarmscope.analyzer.config import ConfigError, load_config
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


def test_default_config_has_every_dimension() -> None:
    cfg = load_config()
    assert set(cfg.figures) == {"memory", "cpu", "processes", "gc", "cleanup"}
    assert all(cfg.figures[d] for d in cfg.figures)
    assert cfg.source == "defaults"


def test_user_override_changes_only_given_keys(tmp_path: Path) -> None:
    path = tmp_path / "points.toml"
    path.write_text("[figures.cpu.agent_cpu_max]\nmedian = 3.0\n[phases]\nsettle_seconds = 5\n")
    cfg = load_config(path)
    assert cfg.figure("cpu", "agent_cpu_max").median == 3.0
    default = load_config().figure("cpu", "agent_cpu_max")
    assert cfg.figure("cpu", "agent_cpu_max").p10 == default.p10
    assert cfg.settle_seconds == 5.0
    assert cfg.source == str(path)


def test_the_library_reads_no_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # $SWARMSCOPE_CONFIG is the CLI's business (settings.grading_config()); the library takes
    # the path it is given.
    path = tmp_path / "points.toml"
    path.write_text("[weights]\ngc = 0\n")
    monkeypatch.setenv("SWARMSCOPE_CONFIG", str(path))
    assert load_config().dimension_weights["gc"] == 1.0
    assert load_config(path).dimension_weights["gc"] == 0.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[figures.cpu.agent_cpu_maxx]\nmedian = 3.0\n", "figures.cpu.agent_cpu_maxx"),
        ("[figures.cpu.agent_cpu_max]\nmedian = 'high'\n", "figures.cpu.agent_cpu_max.median"),
        ("[figures.cpu.agent_cpu_max]\nmedian = 0.2\n", "figures.cpu.agent_cpu_max"),
        ("[figures.memory.leaks]\nweight = -1\n", "figures.memory.leaks.weight"),
        ("[bands]\nB = 95\n", "bands"),
        ("[leaks]\nalpha = 2\n", "leaks.alpha"),
        ("weights = 3\n", "weights"),
        ("[phases\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_every_figure_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "grading.md").read_text()
    for dimension, figures in load_config().figures.items():
        assert f"### {dimension}" in docs
        for key in figures:
            assert f"| `{key}` |" in docs, f"docs/grading.md does not explain {dimension}.{key}"
