"""Secret redaction for command lines and environments before they are recorded.

Command lines are recorded only when ``SWARMSCOPE_RECORD_COMMAND_LINES=1``; even then, tokens,
passwords and keys must never reach the telemetry files. Two kinds of rules apply:

* by *name*: the value of an option or assignment whose name looks secret
  (``--token=abc``, ``--password abc``, ``API_KEY=abc``, ``-H "Authorization: Bearer abc"``);
* by *shape*: values that are secrets wherever they appear (``sk-…`` API keys, AWS access key
  ids, GitHub/Slack tokens, JWTs, ``Bearer …``, ``user:password@`` in URLs).

Redaction is deliberately greedy: a false positive costs a few characters of context, a false
negative leaks a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"

# A name (option, variable, header) whose value is a secret.
_SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[-_.]?key|apikey|access[-_.]?key|"
    r"private[-_.]?key|client[-_.]?secret|credentials?|auth(orization)?|cookie|"
    r"signature|sig|session[-_.]?token|bearer)$",
    re.IGNORECASE,
)
# The same words inside a longer name (GITHUB_TOKEN, db-password, AWS_SECRET_ACCESS_KEY).
_SECRET_NAME_PART = re.compile(
    r"(pass(word|wd|phrase)|secret|token|api[-_.]?key|apikey|access[-_.]?key|private[-_.]?key|"
    r"credential|authorization)",
    re.IGNORECASE,
)

# Values that are secrets by their shape, wherever they appear.
_SECRET_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host -> keep the user, hide the password
    (
        re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)", re.I),
        r"\g<keep>" + REDACTED,
    ),
    # Authorization: Bearer xyz / Basic xyz / Token xyz
    (
        re.compile(r"(?P<keep>\b(bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}", re.I),
        r"\g<keep>" + REDACTED,
    ),
    # OpenAI / Anthropic style keys: sk-..., sk-ant-..., sk-proj-...
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    # AWS access key ids
    (re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), REDACTED),
    # GitHub tokens
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    # Slack tokens
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    # Google API keys
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), REDACTED),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # PEM private keys passed inline
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        REDACTED,
    ),
)

# key=value inside a longer argument or a command-line string (token=abc, "password": "abc").
_ASSIGNMENT = re.compile(
    r"(?P<key>[A-Za-z0-9_.-]*(pass(word|wd|phrase)?|pwd|secret|token|api[-_.]?key|apikey|"
    r"access[-_.]?key|private[-_.]?key|credentials?)[A-Za-z0-9_.-]*)"
    r"(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"'&,;]+)",
    re.IGNORECASE,
)


_OPTION_NAME = re.compile(r"-{0,2}[A-Za-z0-9_.-]+")


def is_secret_name(name: str) -> bool:
    """True when an option, variable or header called ``name`` carries a secret value."""
    bare = name.lstrip("-").strip()
    if not bare:
        return False
    return bool(_SECRET_NAME.search(bare) or _SECRET_NAME_PART.search(bare))


def redact_value(text: str) -> str:
    """Hide every secret-shaped substring of ``text`` (keys, tokens, URL passwords)."""
    for pattern, replacement in _SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return _ASSIGNMENT.sub(_redact_assignment, text)


def _redact_assignment(match: re.Match[str]) -> str:
    if match.group("value") == REDACTED:
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{match.group('quote')}{REDACTED}"


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A copy of ``argv`` with secrets replaced by ``[REDACTED]``.

    Handles ``--token=abc``, ``--token abc``, ``-H 'Authorization: Bearer abc'``,
    ``NAME=value`` assignments (``env API_KEY=abc cmd``) and secret-shaped values anywhere.
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if arg.startswith("-") and "=" not in arg and is_secret_name(arg):
            # --password VALUE: the next argument is the secret (unless it is another option)
            out.append(arg)
            hide_next = True
            continue
        name, sep, _value = arg.partition("=")
        if sep and _OPTION_NAME.fullmatch(name) and is_secret_name(name):
            out.append(f"{name}={REDACTED}")
            continue
        out.append(redact_value(arg))
    return out


def redact_command_line(command_line: str | Iterable[str]) -> str:
    """One redacted command-line string, from an argv list or an already joined string."""
    if isinstance(command_line, str):
        import shlex

        try:
            argv = shlex.split(command_line)
        except ValueError:
            return redact_value(command_line)
        return shlex.join(redact_argv(argv))
    import shlex

    return shlex.join(redact_argv(command_line))


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of an environment with the values of secret-named variables (and secret-shaped
    values of any variable) redacted."""
    return {
        key: REDACTED if is_secret_name(key) else redact_value(value) for key, value in env.items()
    }
