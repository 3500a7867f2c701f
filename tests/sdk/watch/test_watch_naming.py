"""Names that say what runs, roles that tell agents from helpers: tables of argv -> name."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.trace import NoOpTracer
from swarmscope import procfs
from swarmscope.conventions import AgentRole
from swarmscope.watch import watcher as w
from swarmscope.watch.naming import MAX_LENGTH, MAX_WORDS, agent_name
from swarmscope.watch.roles import DEFAULT_HELPERS, helper_names, role_of
from swarmscope.watch.tree import Member

NAMES = [
    (["node", "/usr/lib/node_modules/claude-flow/bin/claude-flow.js", "daemon", "start"],
     "claude-flow daemon start"),
    (["node", "/usr/lib/node_modules/claude-flow/bin/cli.js", "daemon", "start"],
     "claude-flow daemon start"),
    (["npx", "claude-flow", "hooks", "pre-task", "--description", "secret stuff"],
     "claude-flow hooks pre-task"),
    (["npx", "-y", "claude-flow@3.43.0", "daemon", "stop"], "claude-flow daemon stop"),
    (["claude", "--print", "do X"], "claude --print"),
    (["python3", "-m", "my.worker", "--token", "abc"], "python3 -m my.worker"),
    (["/bin/sh", "-c", "ps aux | grep x"], "sh -c"),
    (["bash", "-lc", "make test"], "bash -c"),
    (["python", "worker.py", "--api-key=sk-123"], "python worker.py"),
    # a shebang script on PATH: the interpreter runs it, the command is its name
    (["/usr/bin/python3", "/home/u/bin/claude", "--print", "hi"], "claude --print"),
    (["node", "--max-old-space-size=4096", "/x/node_modules/@acme/pkg/dist/main.js", "serve"],
     "pkg serve"),
    (["node", "-e", "console.log(process.env)"], "node -e"),
    (["git", "commit", "-m", "fix the secret"], "git commit"),
    # operands of plain utilities are values: patterns, durations, files
    (["grep", "password123", "notes.txt"], "grep"),
    (["sleep", "30"], "sleep"),
    (["timeout", "30", "claude", "--print", "x"], "timeout"),
    # values dropped: paths, '=', hex ids, keys, anything the redaction rules flag
    (["tool", "/etc/app/config.yaml", "run"], "tool"),
    (["tool", "mode=fast"], "tool"),
    (["tool", "deadbeefcafe0123456789"], "tool"),
    (["tool", "sk-abcdefghijklmnopqrstuvwx"], "tool"),
    (["tool", "token", "refresh"], "tool"),
    (["tool", "--password", "hunter2"], "tool"),
    (["agent", "run", "this is a quoted prompt"], "agent run"),
]


@pytest.mark.parametrize(("argv", "expected"), NAMES, ids=[n for _, n in NAMES])
def test_name_from_argv(argv: list[str], expected: str) -> None:
    assert agent_name(argv, "comm") == expected


def test_names_are_capped_and_never_empty() -> None:
    long = agent_name(["cli", *[f"sub{i}" for i in range(10)]])
    assert len(long.split()) <= MAX_WORDS and len(long) <= MAX_LENGTH
    assert agent_name(["x" * 20, "y" * 30, "z" * 30, "w" * 30]).count(" ") < MAX_WORDS
    assert agent_name([], "kworker") == "kworker"
    assert agent_name(["/odd path/with space"], "comm") == "comm"


ROLES = [
    ("ps aux", AgentRole.HELPER),
    ("sh -c", AgentRole.HELPER),
    ("which", AgentRole.HELPER),
    ("sleep", AgentRole.HELPER),
    ("claude --version", AgentRole.HELPER),
    ("sh deploy.sh", AgentRole.AGENT),
    ("claude --print", AgentRole.AGENT),
    ("claude-flow daemon start", AgentRole.AGENT),
    ("python worker.py", AgentRole.AGENT),
]


@pytest.mark.parametrize(("name", "role"), ROLES, ids=[n for n, _ in ROLES])
def test_role_by_name(name: str, role: AgentRole) -> None:
    assert role_of(name, DEFAULT_HELPERS) == role


def test_helper_list_is_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMSCOPE_HELPERS", "my-probe, -sleep ,git log")
    helpers = helper_names()
    assert role_of("my-probe", helpers) == AgentRole.HELPER
    assert role_of("git log", helpers) == AgentRole.HELPER
    assert role_of("sleep", helpers) == AgentRole.AGENT


def test_a_process_read_mid_exec_waits_for_its_command_line() -> None:
    """/proc/PID/cmdline reads empty while the kernel swaps a program in (seen with Node's
    detached spawn under load): such a process is named once its command line is there, not
    after its executable ("node") - unless it never gets one within the wait."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        watcher = w.Watcher(session_id="s", tracer=NoOpTracer(), events=False)
        stat = procfs.read_stat(child.pid)
        assert stat is not None
        member = Member(stat=stat, parent_key=None)
        assert watcher._before_exec(member, [])  # nothing to read yet: wait
        assert not watcher._before_exec(member, procfs.read_cmdline(child.pid))
        watcher._first_seen[stat.key] = 0.0  # first seen long ago: the wait is over
        assert not watcher._before_exec(member, [])
    finally:
        child.kill()
        child.wait()
