"""Injecting the Node.js runtime-metrics preload (``node_preload.cjs``) into programs we start.

Node reads ``NODE_OPTIONS`` at start, and every Node process inherits it from its parent's
environment, so appending ``--require "<preload>"`` there reaches a whole tree of Node
processes - including those a shell script or ``npx`` starts. The user's own options are kept.
``SWARMSCOPE_NODE_PRELOAD=0`` turns injection off. A running process cannot be reached this
way: its environment was fixed at exec (docs/node.md).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from swarmscope import conventions as c
from swarmscope import settings as config

NODE_NAMES = frozenset({"node", "nodejs"})
# Launchers (Node programs themselves) and the sub-commands with which they run a package's
# or a project's script; None: every invocation does.
_LAUNCHERS: dict[str, frozenset[str] | None] = {
    "npx": None,
    "npm": frozenset({"exec", "x", "run", "run-script", "start"}),
    "pnpm": frozenset({"dlx", "exec", "run", "start"}),
    "yarn": frozenset({"dlx", "exec", "run", "start"}),
}
SHEBANG_READ_BYTES = 256  # a shebang line is short; never read more of an unknown file
_reported: set[str] = set()


def preload_path() -> Path:
    """The absolute path of the shipped ``node_preload.cjs``."""
    return (Path(__file__).resolve().parent / c.NODE_PRELOAD_FILE).absolute()


def _quoted(path: Path) -> str:
    """``path`` as one NODE_OPTIONS word: Node splits on spaces outside double quotes and
    reads a backslash inside them as an escape."""
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def with_preload(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``env`` whose ``NODE_OPTIONS`` also requires the preload (appended after the
    user's own options; not added twice)."""
    out = dict(env)
    current = out.get(c.ENV_NODE_OPTIONS, "")
    path = preload_path()
    if str(path) in current:
        return out
    option = f"--require {_quoted(path)}"
    out[c.ENV_NODE_OPTIONS] = f"{current.rstrip()} {option}" if current.strip() else option
    return out


def _shebang_is_node(path: str) -> bool:
    """Whether the file at ``path`` starts with a ``#!`` line that runs node."""
    try:
        with open(path, "rb") as f:
            head = f.read(SHEBANG_READ_BYTES)
    except OSError:
        return False
    if not head.startswith(b"#!"):
        return False
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    # "#!/usr/bin/node", "#!/usr/bin/env node", "#!/usr/bin/env -S node --flag"
    words = [w for w in words if not w.startswith("-")]
    names = [os.path.basename(w) for w in words[:2]]
    if names and names[0] == "env":
        names = names[1:2]
    return bool(names) and names[0] in NODE_NAMES


def _executable(word: str, path: str | None) -> str | None:
    """Where ``word`` (a command name or a path) is, as the child's exec would find it."""
    if os.sep in word:
        return word if os.path.isfile(word) else None
    return shutil.which(word, path=path)


def is_node_command(argv: Sequence[str], path: str | None = None) -> bool:
    """Whether ``argv`` starts a Node.js program: node or nodejs, a package script run by
    npx / ``npm exec`` / ``pnpm dlx``, or an executable whose shebang runs node (looked up on
    ``path``, default $PATH; only its first line is read)."""
    if not argv:
        return False
    first = os.fsdecode(argv[0])
    name = os.path.basename(first)
    if name in NODE_NAMES:
        return True
    if name in _LAUNCHERS:
        words = _LAUNCHERS[name]
        return words is None or any(os.fsdecode(a) in words for a in argv[1:3])
    found = _executable(first, path)
    return found is not None and _shebang_is_node(found)


def enabled() -> bool:
    """``SWARMSCOPE_NODE_PRELOAD`` (default on). A word outside the boolean rule raises
    :class:`~swarmscope.settings.ConfigError`."""
    return config.node_preload()


def prepare_env(env: Mapping[str, str], argv: Sequence[str] | None = None) -> dict[str, str]:
    """``env`` with the preload when injection is on and ``argv`` is a Node command (or not
    given: the watcher injects into every program it starts, since a shell script often starts
    node). Raises ConfigError for a bad ``SWARMSCOPE_NODE_PRELOAD``."""
    if not enabled() or (argv is not None and not is_node_command(argv, env.get("PATH"))):
        return dict(env)
    return with_preload(env)


def prepare_env_leniently(env: Mapping[str, str], argv: Sequence[str]) -> dict[str, str]:
    """:func:`prepare_env` for the instrumentor's hook inside someone else's program: a bad
    switch is logged once and means no preload, since raising would break their process start;
    an environment with bytes keys is left as it is."""
    if any(not isinstance(k, str) for k in env):
        return dict(env)
    try:
        return prepare_env(env, argv)
    except config.ConfigError as error:
        if str(error) not in _reported:
            _reported.add(str(error))
            logging.getLogger("swarmscope").warning("%s; Node.js preload not injected", error)
        return dict(env)
