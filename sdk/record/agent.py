"""One agent of the session and how it ends: a process (started or registered), a thread or an
in-process object.

Its tasks (``invoke_agent``), tools (``execute_tool``) and its ``terminate_agent`` span hang
under its ``create_agent`` span, also across processes, because a child started with
:func:`swarmscope.spawn_agent` receives that span's context in TRACEPARENT.
"""

from __future__ import annotations

import signal as signals
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import psutil
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode
from swarmscope import conventions as c
from swarmscope.record import spans
from swarmscope.record.operations import OperationSpan
from swarmscope.record.spans import Termination, classify_exit

if TYPE_CHECKING:
    from swarmscope.record.session import Session

__all__ = ["Agent", "Termination", "classify_exit"]


class Agent:
    """One agent of the session: a process (started or registered), a thread or an object."""

    def __init__(
        self,
        session: Session,
        name: str,
        agent_id: str,
        kind: str,
        pid: int | None = None,
        popen: subprocess.Popen[Any] | None = None,
        span_context: SpanContext | None = None,
    ) -> None:
        self.session = session
        self.name = name
        self.id = agent_id
        self.kind = c.AgentKind(kind)
        self.pid = pid
        self.popen = popen
        self.span_context = span_context
        self.termination: Termination | None = None
        self._lock = threading.Lock()
        self._tracer = session.tracer
        self._task_span_name = c.span_name(c.Operation.INVOKE_AGENT, name)
        self._task_attributes = spans.invoke_agent_attributes(name, agent_id)
        self._task_point = {
            c.GEN_AI_OPERATION_NAME: str(c.Operation.INVOKE_AGENT),
            c.GEN_AI_AGENT_NAME: name,
        }
        self._parent_ctx = (
            trace.set_span_in_context(NonRecordingSpan(span_context))
            if span_context is not None and span_context.is_valid
            else session.parent_context()
        )

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, id={self.id!r}, kind={self.kind}, pid={self.pid})"

    # -- work --
    def task(self, name: str | None = None, task_id: str | None = None) -> OperationSpan:
        """An ``invoke_agent`` span around a unit of work; exceptions mark it failed."""
        attributes = self._task_attributes
        if name is not None or task_id is not None:
            attributes = spans.invoke_agent_attributes(self.name, self.id, name, task_id)
        return OperationSpan(
            self, self._task_span_name, attributes, self.session.task_duration, self._task_point
        )

    def tool(self, name: str) -> OperationSpan:
        """An ``execute_tool {name}`` span around one tool call; exceptions mark it failed."""
        return OperationSpan(
            self,
            c.span_name(c.Operation.EXECUTE_TOOL, name),
            spans.execute_tool_attributes(name, self.name, self.id),
            self.session.tool_duration,
            {c.GEN_AI_OPERATION_NAME: str(c.Operation.EXECUTE_TOOL), c.GEN_AI_TOOL_NAME: name},
        )

    # -- termination --
    def terminate(self, timeout: float = 5.0, reason: str | None = None) -> Termination:
        """Stop the agent (SIGTERM, then SIGKILL after ``timeout`` s) and record how it ended."""
        with self._lock:
            if self.termination is not None:
                return self.termination
            span = self._start_terminate_span()
            try:
                outcome = self._stop_process(timeout)
            except BaseException as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, repr(error)))
                span.end()
                raise
            return self._finish(span, outcome, reason)

    def record_exit(
        self, exit_code: int | None = None, signal: int | None = None, reason: str | None = None
    ) -> Termination:
        """The agent ended on its own (or was reaped elsewhere): record the terminate span only."""
        with self._lock:
            if self.termination is not None:
                return self.termination
            if exit_code is None and self.popen is not None:
                exit_code = self.popen.poll()
            if exit_code is None and signal is not None:
                exit_code = -signal
            observed = time.time() if exit_code is not None else None
            span = self._start_terminate_span()
            return self._finish(span, classify_exit(exit_code, exit_time=observed), reason)

    def _start_terminate_span(self) -> trace.Span:
        return spans.start_terminate_agent(
            self._tracer, self.name, self.id, kind=self.kind, pid=self.pid,
            context=self._parent_ctx,
        )  # fmt: skip

    def _stop_process(self, timeout: float) -> Termination:
        if self.popen is not None:
            return _stop_popen(self.popen, timeout)
        if self.pid is not None and self.kind is c.AgentKind.PROCESS:
            return _stop_pid(self.pid, timeout)
        return Termination(None, c.TerminationReason.GRACEFUL)

    def _finish(self, span: trace.Span, outcome: Termination, reason: str | None) -> Termination:
        if reason is not None:
            outcome = Termination(
                outcome.exit_code, c.TerminationReason(reason), outcome.signal, outcome.exit_time
            )
        spans.end_terminate_agent(span, outcome)
        self.termination = outcome
        self.session._agent_ended(self)
        return outcome


def _stop_popen(popen: subprocess.Popen[Any], timeout: float) -> Termination:
    if popen.poll() is not None:  # ended before we asked
        return classify_exit(popen.returncode, exit_time=time.time())
    try:
        popen.send_signal(signals.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        popen.wait(timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()
        return classify_exit(popen.returncode, killed_after_timeout=True, exit_time=time.time())
    return classify_exit(popen.returncode, sent_signal=signals.SIGTERM, exit_time=time.time())


def _stop_pid(pid: int, timeout: float) -> Termination:
    """Stop a registered process we did not start; its exit code is known only to its parent."""
    try:
        process = psutil.Process(pid)
        process.terminate()
        exit_code = process.wait(timeout)
    except psutil.TimeoutExpired:
        try:
            process.kill()
            exit_code = process.wait(timeout)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            exit_code = None
        return classify_exit(exit_code, killed_after_timeout=True, exit_time=time.time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone already, or not ours to stop
        return Termination(None, c.TerminationReason.GRACEFUL)
    return classify_exit(exit_code, sent_signal=signals.SIGTERM, exit_time=time.time())
