"""A name that says what a watched process runs, safe to record without the command line.

Command lines stay unrecorded by default (``SWARMSCOPE_RECORD_COMMAND_LINES``), yet 28 agents
called ``node`` tell nobody anything. :func:`agent_name` keeps the *words that name the
program*: the command (or the script an interpreter runs, or the package ``npx`` runs) and the
subcommand words after it, and drops everything that could be a value::

    node /usr/lib/node_modules/claude-flow/bin/cli.js daemon start  -> claude-flow daemon start
    npx claude-flow hooks pre-task --description "secret stuff"     -> claude-flow hooks pre-task
    claude --print "do X"                                           -> claude --print
    python3 -m my.worker --token abc                                -> python3 -m my.worker
    /bin/sh -c "ps aux | grep x"                                    -> sh -c

A word is kept only while it looks like a command word (letters, digits, ``. _ : -``, no ``/``,
``=``, spaces or quotes, short, not hex- or base64-like, nothing :mod:`swarmscope.redact`
flags); the first word that does not ends the name, since what follows a value is usually more
of it. Option *names* are dropped too, except one mode switch right after a program that has no
subcommand (``claude --print``), because that is what tells a one-shot invocation from a
session. At most :data:`MAX_WORDS` words and :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import os
import re

from swarmscope import procfs
from swarmscope.redact import is_secret_name, redact_value

MAX_WORDS = 4
MAX_LENGTH = 64
MAX_WORD_LENGTH = 32

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:+-]*")
_FLAG = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*")
_HEXLIKE = re.compile(r"[0-9a-fA-F]{12,}")
_DIGITS = re.compile(r"\d")

# Runtimes whose script *is* the program: a user runs `claude-flow`, not `node cli.js`.
_SCRIPT_RUNTIMES = frozenset({"node", "nodejs", "bun", "deno", "tsx", "ts-node"})
# Interpreters named together with their script when it has an extension (`python worker.py`).
_INTERPRETERS = re.compile(r"(python|pypy|ruby|perl|php|bash|sh|dash|zsh|ksh|fish)[0-9.]*$")
_SHELLS = re.compile(r"(bash|sh|dash|zsh|ksh|fish)$")
# Package runners: the package they run is the program.
_RUNNERS = frozenset({"npx", "bunx", "pnpx"})
# Interpreter options that consume the next argument (so it is not taken for the script).
_VALUE_OPTIONS = {
    "node": {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file",
             "--input-type", "--title", "--conditions", "-C"},
    "python": {"-X", "-W", "-Q"},
    "npx": {"-p", "--package", "-c", "--call", "--cache", "--registry"},
}  # fmt: skip
# Options that mean "the code is inline": the name is the interpreter and the switch.
_INLINE = {"-c", "-e", "--eval", "-p", "--print"}
_SHELL_INLINE = re.compile(r"-[a-z]*c[a-z]*")
# Utilities whose arguments are all operands (patterns, files, durations): named alone.
OPERAND_ONLY = frozenset({
    "awk", "basename", "cat", "chmod", "cp", "cut", "date", "dirname", "echo", "env", "find",
    "grep", "egrep", "fgrep", "head", "id", "kill", "ln", "ls", "lsof", "mkdir", "mv", "nice",
    "nohup", "pgrep", "pkill", "printf", "ps", "readlink", "rg", "rm", "sed", "setsid", "sleep",
    "sort", "stat", "stdbuf", "tail", "tee", "test", "timeout", "touch", "tr", "uniq", "wc",
    "which", "xargs", "curl", "wget",
})  # fmt: skip
_SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")


def agent_name(argv: list[str], fallback: str = "") -> str:
    """The name of a process from its argument vector; ``fallback`` (its comm) when empty."""
    if not argv:
        return fallback or "process"
    program = _base(argv[0]) or fallback or "process"
    family = _family(program)
    if family == "node":
        head, rest = _script_head(program, argv[1:], family, keep_interpreter=False)
    elif family == "python" or _INTERPRETERS.fullmatch(program):
        head, rest = _script_head(program, argv[1:], "python", keep_interpreter=True)
    elif program in _RUNNERS:
        head, rest = _runner_head(program, argv[1:])
    elif program in OPERAND_ONLY:
        return program  # `grep PATTERN`, `sleep 5`: every argument is a value
    else:
        head, rest = [program], argv[1:]
    return _clip(head + _subcommand_words(rest, allow_mode=len(head) == 1))


def _base(path: str) -> str:
    """The executable's file name, when it is a plain word (it is recorded as
    ``process.executable.name`` anyway, so the secret rules for words do not apply)."""
    name = os.path.basename(path.rstrip("/"))
    return name if len(name) <= MAX_WORD_LENGTH and _WORD.fullmatch(name) else ""


def _family(program: str) -> str:
    if program in _SCRIPT_RUNTIMES:
        return "node"
    if re.fullmatch(r"(python|pypy)[0-9.]*", program):
        return "python"
    return "other"


def _script_head(
    program: str, args: list[str], family: str, *, keep_interpreter: bool
) -> tuple[list[str], list[str]]:
    """``[interpreter] script`` (or ``interpreter -m module`` / ``interpreter -c``) and the
    arguments after it."""
    takes_value = _VALUE_OPTIONS.get(family, set())
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-m" and family == "python" and i + 1 < len(args):
            module = args[i + 1]
            head = [program, "-m", module] if _safe_word(module) else [program, "-m"]
            return head, args[i + 2 :]
        if arg in _INLINE:
            return [program, arg], []
        if _SHELL_INLINE.fullmatch(arg) and _SHELLS.fullmatch(program):
            return [program, "-c"], []  # sh -ec "...", bash -lc "..."
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        i += 2 if arg in takes_value else 1
    if i >= len(args):
        return [program], []
    script, rest = args[i], args[i + 1 :]
    name = _script_name(script)
    if not name:
        return [program], []
    if family == "node" or not keep_interpreter:
        return [name], rest
    # `python worker.py` names both; an extension-less script is a command run by its shebang
    has_suffix = "." in os.path.basename(script)
    return ([program, name] if has_suffix else [name]), rest


def _script_name(script: str) -> str:
    """A script's program name: its npm package when it lives in node_modules, else its file
    name (without a JavaScript suffix)."""
    parts = script.split("/")
    if "node_modules" in parts:
        at = len(parts) - 1 - parts[::-1].index("node_modules")
        package = parts[at + 1 : at + 3]
        if package and package[0] != ".bin":
            name = package[0] if not package[0].startswith("@") else "/".join(package)
            bare = name.rsplit("/", 1)[-1]
            return bare if _safe_word(bare) else ""
    base = os.path.basename(script)
    for suffix in _SCRIPT_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base if _safe_word(base) else ""


def _runner_head(program: str, args: list[str]) -> tuple[list[str], list[str]]:
    """``npx [options] package[@version] ...``: the package is the program."""
    takes_value = _VALUE_OPTIONS["npx"]
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in takes_value else 1
    if i >= len(args):
        return [program], []
    package = args[i]
    if package.startswith("@"):  # @scope/name@version -> name
        package = package[1:].split("/", 1)[-1]
    package = package.split("@", 1)[0]
    return ([package] if _safe_word(package) else [program]), args[i + 1 :]


def _subcommand_words(args: list[str], *, allow_mode: bool) -> list[str]:
    words: list[str] = []
    for arg in args:
        if arg.startswith("-"):
            # one mode switch (`--print`) when no subcommand came first; never a value
            if allow_mode and not words and _FLAG.fullmatch(arg) and not is_secret_name(arg):
                words.append(arg)
            break
        if not _safe_word(arg):
            break
        words.append(arg)
    return words


def _safe_word(word: str) -> bool:
    """A word that names something rather than carrying a value."""
    if not word or len(word) > MAX_WORD_LENGTH or not _WORD.fullmatch(word):
        return False
    if _HEXLIKE.search(word) or (len(word) >= 20 and _DIGITS.search(word)):
        return False  # ids, hashes, base64
    return not is_secret_name(word) and redact_value(word) == word


def _clip(words: list[str]) -> str:
    words = words[:MAX_WORDS]
    while len(words) > 1 and len(" ".join(words)) > MAX_LENGTH:
        words.pop()
    return " ".join(words)[:MAX_LENGTH]


def process_name(pid: int) -> str:
    """The name of a live process (its comm when its command line is unreadable)."""
    return agent_name(procfs.read_cmdline(pid), procfs.read_comm(pid) or str(pid))
