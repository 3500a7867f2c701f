"""The grading configuration: defaults, overrides, validation, and that docs/grading.md
explains every figure and threshold."""

from __future__ import annotations

from pathlib import Path

import pytest
from swarmscope.analyzer.config import ConfigError, load_config


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
        ("[thresholds.cpu]\nload_per_core_warning = 'x'\n", "thresholds.cpu.load_per_core_warning"),
        ("[thresholds.cpu]\nload_per_core_warnin = 1\n", "thresholds.cpu.load_per_core_warnin"),
        ("[thresholds.cpu]\nload_per_core_warning = 3\n", "thresholds.cpu.load_per_core_warning"),
        ("[thresholds.memory]\nunreleased_warning = -1\n", "thresholds.memory.unreleased_warning"),
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


def _grading_doc() -> str:
    return (Path(__file__).resolve().parents[2] / "docs" / "grading.md").read_text()


def test_every_figure_is_documented() -> None:
    docs = _grading_doc()
    for dimension, figures in load_config().figures.items():
        assert f"### {dimension}" in docs
        for key in figures:
            assert f"| `{key}` |" in docs, f"docs/grading.md does not explain {dimension}.{key}"


def test_every_threshold_is_in_the_file_and_documented() -> None:
    docs = _grading_doc()
    thresholds = load_config().thresholds
    assert set(thresholds) == {"memory", "cpu", "processes", "cleanup"}
    for dimension, table in thresholds.items():
        for key in table:
            assert f"| `{dimension}.{key}` |" in docs, (
                f"docs/grading.md does not explain thresholds.{dimension}.{key}")


def test_threshold_override_changes_only_that_threshold(tmp_path: Path) -> None:
    path = tmp_path / "points.toml"
    path.write_text("[thresholds.memory]\nsystem_peak_warning = 0.9\n")
    cfg, default = load_config(path), load_config()
    assert cfg.threshold("memory", "system_peak_warning") == 0.9
    assert default.threshold("memory", "system_peak_warning") == 0.85
    assert cfg.thresholds["cpu"] == default.thresholds["cpu"]
