"""Telemetry text made inert for a terminal, a spreadsheet or a log line.

Any program can write telemetry, so its strings may hold terminal escape sequences (which
can rewrite the screen, set the window title or hide text), other control characters and
bidirectional overrides. Every output that shows such text passes it through here (the
Markdown and HTML reports add their own escaping on top).
"""

from __future__ import annotations

import re

# C0 controls (newline and tab too: one value, one line), DEL, C1 controls, and the
# Unicode characters that reorder or hide text on screen (bidi embeddings and isolates,
# line and paragraph separators, zero-width joiners are harmless and kept).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_char(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def control(text: str) -> str:
    """``text`` with every control or reordering character written as ``\\xNN`` / ``\\uNNNN``."""
    return _UNSAFE.sub(_escape_char, text)


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to about ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def reason(text: str, limit: int = 300) -> str:
    """A reason or message built from telemetry, safe to print on one line."""
    return shorten(control(text), limit)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell for CSV: control characters escaped, and a leading ``=``, ``+``, ``-``
    or ``@`` that a spreadsheet would run as a formula neutralised with a ``'`` (numbers
    such as ``-1.5`` stay as they are)."""
    text = control(text)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
