"""Alerts while a session runs: each printed once on stderr, recorded as a span event, and
handed to the ``--on-alert`` command.

The rules that find them live beside what they read: resource rules after each sampling round
(:mod:`swarmscope.monitor.alert_rules`), process-tree rules in the watcher
(:mod:`swarmscope.watch.alerts`). Both hand their findings to the one :class:`AlertSink` of
the process (:func:`sink`), which keeps the promise of *once per condition per agent*: the key
of an alert is its condition and the process it is about (pid and start time, so a recycled pid
is a new process), or the session for system-wide conditions.

Recording: one short ``swarm_alert`` span per alert under the session's root span, with one
``swarm.alert`` event carrying the agent (name, id, pid), the condition, the value and the
threshold, so ``swarmscope report`` lists what was alerted and when. The span is ended at once,
so it is exported within a second even if the session later dies.

The ``--on-alert`` command (``SWARMSCOPE_ON_ALERT``) runs through ``/bin/sh -c`` with the alert
as one JSON object on its stdin, from a worker thread: a slow or hanging command never stalls
sampling. Its failures are reported once on stderr.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from swarmscope import conventions as c
from swarmscope import settings as config

COMMAND_TIMEOUT_S = 30.0  # an on-alert command that runs longer is stopped
FLUSH_AT_EXIT_S = 3.0  # how long the end of the process waits for pending commands
MAX_PENDING = 100  # alerts waiting for the command beyond this are not handed to it
MAX_KEYS = 100_000  # bound on the once-only memory of a days-long session
_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}


def printable(text: object) -> str:
    """``text`` with control characters escaped: telemetry names reach a terminal."""
    return str(text).translate(_CONTROL)


@dataclass
class Alert:
    """One condition crossing its line, about one process (or the whole session)."""

    condition: c.AlertCondition
    message: str  # one line, for humans
    value: float
    threshold: float
    unit: str = "1"
    pid: int | None = None
    start_ticks: int | None = None  # with pid: which process (pids are recycled)
    agent_id: str | None = None
    agent_name: str | None = None
    series: str | None = None  # leak alerts: rss | fds | threads
    time: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple[Any, ...]:
        return (str(self.condition), self.pid, self.start_ticks, self.series)

    def attributes(self) -> dict[str, Any]:
        """The ``swarm.alert`` event's attributes."""
        attrs: dict[str, Any] = {
            c.ALERT_CONDITION: str(self.condition),
            c.ALERT_VALUE: float(self.value),
            c.ALERT_THRESHOLD: float(self.threshold),
            c.ALERT_UNIT: self.unit,
            c.ALERT_MESSAGE: self.message,
        }
        for key, value in ((c.PROCESS_PID, self.pid), (c.AGENT_INSTANCE_ID, self.agent_id),
                           (c.GEN_AI_AGENT_NAME, self.agent_name), (c.ALERT_SERIES, self.series)):
            if value is not None:
                attrs[key] = value
        return attrs

    def to_json(self, session_id: str | None) -> str:
        """The document the ``--on-alert`` command reads (docs/live.md)."""
        return json.dumps({
            "condition": str(self.condition), "message": self.message, "value": self.value,
            "threshold": self.threshold, "unit": self.unit, "series": self.series,
            "time": self.time, "session_id": session_id,
            "agent": {"name": self.agent_name, "id": self.agent_id, "pid": self.pid},
        })  # fmt: skip


class AlertSink:
    """Where every alert of this process goes; each key passes once."""

    def __init__(self, command: str | None = None, stream: Any = None) -> None:
        self.command = command
        self.stream = stream  # None: sys.stderr at the time of the alert
        self.alerts: list[Alert] = []  # what was raised, in order (tests, top)
        self._keys: set[tuple[Any, ...]] = set()
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue(MAX_PENDING)
        self._worker: threading.Thread | None = None
        self._failed = False  # the command's failures are reported once
        self._dropped = False

    def raise_alert(self, alert: Alert) -> bool:
        """Report ``alert`` unless its key already was; True when it was reported now."""
        with self._lock:
            if alert.key in self._keys:
                return False
            if len(self._keys) >= MAX_KEYS:
                self._keys.clear()
            self._keys.add(alert.key)
            self.alerts.append(alert)
            del self.alerts[:-1000]
        self._print(f"swarmscope: ALERT {alert.condition}: {printable(alert.message)}")
        session_id = _record(alert)
        if self.command:
            self._hand_over(alert.to_json(session_id))
        return True

    def seen(self, alert: Alert) -> bool:
        with self._lock:
            return alert.key in self._keys

    def _print(self, line: str) -> None:
        try:
            print(line, file=self.stream or sys.stderr, flush=True)
        except (OSError, ValueError):  # a closed stderr must not stop the sampler
            pass

    # --- the on-alert command --------------------------------------------------------------
    def _hand_over(self, document: str) -> None:
        try:
            self._queue.put_nowait(document)
        except queue.Full:
            if not self._dropped:
                self._dropped = True
                self._print(f"swarmscope: on-alert command is {MAX_PENDING} alerts behind; "
                            "later alerts are printed and recorded but not handed to it")
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._deliver, name="swarmscope-on-alert",
                                            daemon=True)  # fmt: skip
            self._worker.start()
            atexit.register(self.flush, FLUSH_AT_EXIT_S)

    def _deliver(self) -> None:
        while True:
            document = self._queue.get()
            try:
                if document is None:
                    return
                self._run(document)
            finally:
                self._queue.task_done()

    def _run(self, document: str) -> None:
        try:
            done = subprocess.run(
                ["/bin/sh", "-c", self.command or ""], input=document.encode() + b"\n",
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            self._command_failed(f"did not finish within {COMMAND_TIMEOUT_S:g}s (stopped)")
        except OSError as error:
            self._command_failed(f"could not be started: {error.strerror or error}")
        else:
            if done.returncode != 0:
                self._command_failed(f"exited with status {done.returncode}")

    def _command_failed(self, why: str) -> None:
        if not self._failed:
            self._failed = True
            self._print(f"swarmscope: on-alert command {printable(self.command)!r} {why}; "
                        "further failures are not reported")

    def flush(self, timeout: float = FLUSH_AT_EXIT_S) -> bool:
        """Wait up to ``timeout`` seconds for the command to have read every pending alert."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _record(alert: Alert) -> str | None:
    """The ``swarm_alert`` span of ``alert`` in this process's telemetry; the session id."""
    from swarmscope.record import telemetry

    state = telemetry.current()
    if state is None:
        return None
    try:
        from opentelemetry.trace import SpanKind

        span = state.tracer.start_span(
            c.SPAN_ALERT, context=state.session.parent_context(), kind=SpanKind.INTERNAL,
            attributes={c.SESSION_ID: state.session_id, c.ALERT_CONDITION: str(alert.condition)},
            start_time=int(alert.time * 1e9),
        )  # fmt: skip
        span.add_event(c.EVENT_ALERT, alert.attributes(), timestamp=int(alert.time * 1e9))
        span.end()
    except Exception:  # recording is best effort; the alert was printed
        pass
    return state.session_id


_SINK: AlertSink | None = None
_SINK_PID = 0
_SINK_LOCK = threading.Lock()


def sink() -> AlertSink:
    """The process's one sink (the command from ``SWARMSCOPE_ON_ALERT`` at first use); a
    forked child gets its own (the parent's worker thread does not exist there)."""
    global _SINK, _SINK_PID
    with _SINK_LOCK:
        if _SINK is None or _SINK_PID != os.getpid():
            _SINK, _SINK_PID = AlertSink(config.on_alert_command()), os.getpid()
        return _SINK


def configure(command: str | None) -> AlertSink:
    """Set the command of this process's sink (``swarmscope run --on-alert CMD``)."""
    target = sink()
    target.command = command
    return target
