"""Starting agents: :func:`spawn_agent` and the environment a child needs (:func:`child_env`).

``create_agent`` spans hang under the session's root span (or the caller's current span, or a
TRACEPARENT inherited from a parent process).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from swarmscope import conventions as c
from swarmscope.procfs import read_stat
from swarmscope.record import spans, telemetry
from swarmscope.record.agent import Agent
from swarmscope.watch import node


def spawn_agent(
    name: str,
    command: Sequence[str] | None = None,
    *,
    agent_id: str | None = None,
    pid: int | None = None,
    kind: str = "process",
    env: Mapping[str, str] | None = None,
    **popen_kwargs: Any,
) -> Agent:
    """Start (``command``) or register (``pid``) an agent, or declare a thread/in-process one.

    Emits ``create_agent {name}``; a started process gets :func:`child_env` (session, agent id,
    TRACEPARENT of that span) merged into its environment, and the monitor watches its tree.
    """
    session = telemetry.get().session
    agent_id = agent_id or spans.new_agent_id(name)
    if command is None and pid is None and kind == c.AgentKind.PROCESS:
        kind = c.AgentKind.INPROC
    span = spans.start_create_agent(
        session.tracer, name, agent_id, kind=kind, context=session.parent_context()
    )
    agent = Agent(session, name, agent_id, kind, pid=pid, span_context=span.get_span_context())
    try:
        if command is not None:
            full_env = {**(env if env is not None else os.environ), **session.child_env(agent)}
            full_env = node.prepare_env(full_env, list(command))
            agent.popen = subprocess.Popen(list(command), env=full_env, **popen_kwargs)
            agent.pid = agent.popen.pid
            span.set_attribute(c.PROCESS_PARENT_PID, os.getpid())
            span.set_attribute(c.PROCESS_EXECUTABLE_NAME, os.path.basename(str(command[0])))
        elif pid is not None:
            stat = read_stat(pid)
            span.set_attribute(c.PROCESS_PARENT_PID, stat.ppid if stat is not None else 0)
        if agent.pid is not None:
            span.set_attribute(c.PROCESS_PID, agent.pid)
    except BaseException as error:
        spans.record_failure(span, error)
        span.end()
        raise
    span.end()
    session.register(agent)
    return agent


def child_env(agent: Agent | None = None) -> dict[str, str]:
    """Environment that makes a child process report into this session (and as ``agent``).

    Merge it into the child's environment; :func:`spawn_agent` does this itself.
    """
    return telemetry.get().session.child_env(agent)
