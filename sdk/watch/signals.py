"""Signals sent to the watcher go on to the program it runs.

The watcher keeps going after a SIGINT/SIGTERM/SIGHUP/SIGQUIT so it can record the program's
exit and flush; the program decides what the signal means.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def forward_signals(child: Callable[[], subprocess.Popen[Any] | None]) -> None:
    """Forward :data:`FORWARDED` signals to ``child()`` while it runs (main thread only)."""

    def forward(signum: int, _frame: Any) -> None:
        process = child()
        if process is None or process.returncode is not None:
            return
        if signum == signal.SIGINT and _terminal_sent_to_group():
            return  # Ctrl-C at a terminal already reached the program's process group
        try:
            os.kill(process.pid, signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)


def _terminal_sent_to_group() -> bool:
    """True when we are in the terminal's foreground process group, where Ctrl-C is delivered
    to every member (the program included), so forwarding would deliver it twice."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False
