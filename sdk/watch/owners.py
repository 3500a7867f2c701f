"""Who runs a session: the marker file a watcher keeps in the data directory.

``swarmscope run`` and ``attach`` write ``<data_dir>/watch/<session>.owner`` (JSON: session id,
the watcher's pid and start ticks, start and end times) when they start and stamp the end when
they finish. ``swarmscope reap`` reads it to refuse a session that is still being watched, and
to find the latest session when none is named. The suffix keeps the analyzer's ingest (which
reads ``.jsonl``/``.json``) away from it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from swarmscope import conventions as c
from swarmscope import procfs

SUBDIR = "watch"
SUFFIX = ".owner"


def owner_path(data_dir: Path, session_id: str) -> Path:
    return data_dir / SUBDIR / f"{session_id}{SUFFIX}"


def write_owner(data_dir: Path, session_id: str, name: str) -> Path | None:
    """Record this process as the watcher of ``session_id``; None when it cannot be written
    (watching goes on: the marker only makes ``reap`` safer)."""
    stat = procfs.read_stat(os.getpid())
    record = {
        "session_id": session_id, "pid": os.getpid(),
        "start_ticks": stat.start_ticks if stat else None, "started": time.time(),
        "ended": None, "name": name,
    }  # fmt: skip
    path = owner_path(data_dir, session_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    except OSError:
        return None
    return path


def mark_ended(path: Path | None) -> None:
    """Stamp the end of watching on an owner file."""
    if path is None:
        return
    record = read_owner(path)
    if record is not None:
        record["ended"] = time.time()
        try:
            path.write_text(json.dumps(record))
        except OSError:
            pass


def read_owner(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def live_watcher(data_dir: Path, session_id: str) -> int | None:
    """The pid of a watcher still watching ``session_id`` (alive, same start, not ended)."""
    record = read_owner(owner_path(data_dir, session_id))
    if not record or record.get("ended") is not None:
        return None
    pid, ticks = record.get("pid"), record.get("start_ticks")
    if not isinstance(pid, int):
        return None
    stat = procfs.read_stat(pid)
    if stat is None or stat.is_zombie or (ticks is not None and stat.start_ticks != ticks):
        return None
    return pid


def known_sessions(data_dir: Path) -> dict[str, float]:
    """Session id -> when it was last active, from owner files and the sdk's trace files."""
    found: dict[str, float] = {}
    for path in (data_dir / SUBDIR).glob(f"*{SUFFIX}"):
        record = read_owner(path)
        if record and isinstance(record.get("session_id"), str):
            found[record["session_id"]] = float(record.get("started") or path.stat().st_mtime)
    for path in (data_dir / "sdk").glob(f"{c.SIGNAL_TRACES}.*.jsonl"):
        session = _first_session_id(path)
        if session:
            found[session] = max(found.get(session, 0.0), path.stat().st_mtime)
    return found


def latest_session(data_dir: Path) -> str | None:
    """The most recently active session in ``data_dir``, or None."""
    sessions = known_sessions(data_dir)
    return max(sessions, key=sessions.__getitem__) if sessions else None


def _first_session_id(path: Path) -> str | None:
    """``session.id`` of the first resource in a traces file (one process: one session)."""
    try:
        with path.open(encoding="utf-8") as handle:
            line = handle.readline()
        document = json.loads(line) if line.strip() else {}
    except (OSError, ValueError):
        return None
    for resource_spans in document.get("resourceSpans", []):
        for item in resource_spans.get("resource", {}).get("attributes", []):
            if item.get("key") == c.SESSION_ID:
                value = item.get("value", {}).get("stringValue")
                if value:
                    return value
    return None
