"""Agents and helpers: which watched processes the orchestrator manages and which are the
short utilities an agent runs.

Real orchestrators run a few long-lived agents (a daemon, workers, CLI invocations) among a
crowd of ``ps``, ``sh -c``, ``which`` and ``sleep``. Each watched process's ``create_agent``
span carries ``swarm.agent.role`` (:class:`~swarmscope.conventions.AgentRole`); the analyzer
groups helpers under the agent that ran them (``process.parent_pid`` and the parent span), and
may also treat a short-lived process under an agent as a helper.

The helper list is :data:`DEFAULT_HELPERS` below; ``SWARMSCOPE_HELPERS`` (read by
:func:`swarmscope.settings.helper_overrides`) adds names, or removes them when written
``-name``. It is a setting rather than a grading control point because the role is decided
while watching, by the sdk, which must not depend on the analyzer's files; an environment
variable also travels with the program to CI.

An entry matches a process's derived name (:mod:`swarmscope.watch.naming`) word by word from
the start: ``ps`` matches ``ps aux``, ``sh -c`` matches ``sh -c`` but not ``sh deploy.sh``.
"""

from __future__ import annotations

from swarmscope import settings as config
from swarmscope.conventions import AgentRole

DEFAULT_HELPERS: frozenset[str] = frozenset({
    # shells running a one-liner
    "sh -c", "bash -c", "dash -c", "zsh -c", "ksh -c",
    # process and system inspection
    "ps", "pgrep", "pkill", "kill", "pidof", "lsof", "top", "free", "df", "du", "uname", "id",
    "whoami", "hostname", "uptime", "nproc", "getconf", "locale", "tty", "stty", "tput",
    # lookups and text
    "which", "whereis", "command", "type", "grep", "egrep", "fgrep", "rg", "sed", "awk", "cut",
    "tr", "head", "tail", "cat", "wc", "sort", "uniq", "tee", "xargs", "echo", "printf",
    "basename", "dirname", "readlink", "realpath", "date", "stat", "ls", "find", "test",
    "true", "false", "mktemp", "touch", "mkdir", "rm", "cp", "mv", "ln", "chmod",
    # wrappers and waits
    "sleep", "timeout", "env", "nice", "nohup", "setsid", "stdbuf", "time", "flock",
    # version probes an orchestrator runs before the real work
    "git rev-parse", "git config", "git status", "node --version", "npm --version",
    "claude --version",
})  # fmt: skip


def helper_names() -> frozenset[str]:
    """The helper list in force: the defaults with ``SWARMSCOPE_HELPERS`` applied."""
    added, removed = config.helper_overrides()
    return (DEFAULT_HELPERS | added) - removed


def role_of(name: str, helpers: frozenset[str] | None = None) -> AgentRole:
    """``helper`` when ``name`` starts with the words of a helper entry, else ``agent``."""
    entries = helper_names() if helpers is None else helpers
    words = name.split()
    for size in range(1, min(len(words), 3) + 1):
        if " ".join(words[:size]) in entries:
            return AgentRole.HELPER
    return AgentRole.AGENT
