"""Secrets in recorded command lines and environments are replaced, the rest is kept."""

# ruff: noqa: E501 -- one case per line reads better than wrapped tables

from __future__ import annotations

import pytest
from swarmscope.redact import REDACTED, redact_argv, redact_command_line, redact_env


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["claude", "--token=abc123"], ["claude", f"--token={REDACTED}"]),
        (["mysql", "--password", "hunter2", "db"], ["mysql", "--password", REDACTED, "db"]),
        (["cli", "--api-key", "k1"], ["cli", "--api-key", REDACTED]),
        (
            ["env", "OPENAI_API_KEY=abc", "node", "x.js"],
            ["env", f"OPENAI_API_KEY={REDACTED}", "node", "x.js"],
        ),
        (
            ["curl", "-H", "Authorization: Bearer abcdefghijkl"],
            ["curl", "-H", f"Authorization: Bearer {REDACTED}"],
        ),
        (
            ["git", "clone", "https://bob:s3cr3t@example.com/r.git"],
            ["git", "clone", f"https://bob:{REDACTED}@example.com/r.git"],
        ),
        (["run", "sk-ant-api03-abcdefghijklmnopqrstuv"], ["run", REDACTED]),
        (["aws", "--key", "AKIAIOSFODNN7EXAMPLE"], ["aws", "--key", REDACTED]),
        (
            ["x", "--db-password=pw", "--aws-secret-access-key", "zz"],
            ["x", f"--db-password={REDACTED}", "--aws-secret-access-key", REDACTED],
        ),
        (["x", "url?token=abc&page=2"], ["x", f"url?token={REDACTED}&page=2"]),
        (["x", "ghp_abcdefghijklmnopqrstuvwxyz0123"], ["x", REDACTED]),
    ],
)
def test_secrets_in_arguments_are_redacted(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


def test_harmless_arguments_are_kept() -> None:
    argv = [
        "python",
        "-m",
        "worker",
        "--session",
        "s1",
        "--interval",
        "0.5",
        "--port=8080",
        "file.txt",
    ]
    assert redact_argv(argv) == argv


def test_command_line_string() -> None:
    line = redact_command_line("deploy --password 'p w' --verbose")
    assert "p w" not in line and REDACTED in line and "--verbose" in line


def test_environment() -> None:
    env = redact_env({"GITHUB_TOKEN": "t", "HOME": "/root", "DATABASE_URL": "postgres://u:pw@h/db"})
    assert env == {
        "GITHUB_TOKEN": REDACTED,
        "HOME": "/root",
        "DATABASE_URL": f"postgres://u:{REDACTED}@h/db",
    }
