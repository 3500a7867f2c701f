"""The patches behind the auto-instrumentation: where Python starts and reaps processes.

Each wrapper records through :mod:`swarmscope.record.spans` (create_agent when a child starts,
terminate_agent when the program collects its status) and hands the child the session's
environment; :func:`targets` lists every (owner, attribute, wrapper) the instrumentor applies.
A thread-local guard keeps swarmscope's own bookkeeping from being recorded.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import sys
import threading
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from swarmscope import conventions as c
from swarmscope import settings as config
from swarmscope.procfs import read_exe
from swarmscope.record import spans
from swarmscope.watch import node

_PATCH = threading.local()  # re-entrancy guard: our own bookkeeping must not be recorded
_AGENTS: dict[int, Any] = {}  # pid -> swarmscope.Agent, until its exit is recorded
_AGENTS_LOCK = threading.Lock()
_MP_HELPERS = (b"multiprocessing.forkserver", b"multiprocessing.resource_tracker")
if hasattr(os, "register_at_fork"):
    # a forked child must not record its siblings' exits
    os.register_at_fork(after_in_child=_AGENTS.clear)


# --- configuration ----------------------------------------------------------------------------


_BAD_PATTERNS: set[str] = set()


def _agent_pattern() -> re.Pattern[str] | None:
    """SWARMSCOPE_AGENT_PATTERN compiled; a bad one is reported once and ignored (every child
    counts), because failing here would break the program's own process starts."""
    try:
        return config.agent_pattern()
    except config.ConfigError as error:
        if str(error) not in _BAD_PATTERNS:
            _BAD_PATTERNS.add(str(error))
            logging.getLogger("swarmscope").warning("%s; recording every child process", error)
        return None


def _own_cmdline() -> bytes:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b"\0".join(a.encode() for a in sys.argv)


def defer_init() -> bool:
    """multiprocessing's own processes initialise later (or never): a spawn/forkserver child
    once its process object (carrying its agent identity) is unpickled; the forkserver and
    resource tracker helpers are no agents and record nothing."""
    cmdline = _own_cmdline()
    return b"--multiprocessing-fork" in cmdline or any(h in cmdline for h in _MP_HELPERS)


# --- the session ------------------------------------------------------------------------------


def start_session() -> Any:
    """Initialise swarmscope (idempotent) and mark this process's future children."""
    import swarmscope

    swarmscope.init()
    sess = swarmscope.session()
    _set_env(c.ENV_SESSION_ID, sess.id)
    _set_env(c.ENV_DATA_DIR, str(sess.telemetry.data_dir))
    return sess


_SAVED_ENV: dict[str, str | None] = {}


def _set_env(key: str, value: str) -> None:
    """Put ``key`` in os.environ so children started by any means (os.system, fork+exec,
    spawnv) carry the session marker; remembered so _uninstrument can put things back."""
    if key not in _SAVED_ENV:
        _SAVED_ENV[key] = os.environ.get(key)
    os.environ[key] = value


def forget() -> None:
    """Undo what the patches left behind: agents awaiting their exit and the environment."""
    with _AGENTS_LOCK:
        _AGENTS.clear()
    _restore_env()


def _restore_env() -> None:
    for key, value in _SAVED_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _SAVED_ENV.clear()


# --- recording spawn and exit -----------------------------------------------------------------


def _begin(name: str) -> tuple[Any, Any, dict[str, str]]:
    """Open the create_agent span and build the child's environment before it starts."""
    from swarmscope.record.agent import Agent

    sess = start_session()
    agent_id = spans.new_agent_id(name)
    span = spans.start_create_agent(sess.tracer, name, agent_id, context=sess.parent_context())
    agent = Agent(
        sess, name, agent_id, c.AgentKind.PROCESS.value, span_context=span.get_span_context()
    )
    return span, agent, sess.child_env(agent)


def _started(span: Any, agent: Any, pid: int, argv: list[str] | None, executable: str | None):
    """The child exists: finish its create_agent span, register it, start watching it."""
    sess = agent.session
    agent.pid = pid
    span.set_attributes(
        spans.process_attributes(
            pid,
            parent_pid=os.getpid(),
            argv=argv,
            executable=executable,
            record_command_line=sess.telemetry.settings.record_command_lines,
        )
    )
    span.end()
    with _AGENTS_LOCK:
        _AGENTS[pid] = agent
    sess.register(agent)


def _failed(span: Any, error: BaseException) -> None:
    spans.record_failure(span, error)
    span.end()


def _exited(pid: int | None, returncode: int | None) -> None:
    """The program collected a child's status: record its terminate_agent span once."""
    if pid is None or returncode is None:
        return
    with _AGENTS_LOCK:
        agent = _AGENTS.pop(pid, None)
    if agent is None:
        return
    try:
        agent.record_exit(exit_code=returncode)
    except Exception:  # never break the program's wait() for telemetry
        pass


def _guarded() -> bool:
    return getattr(_PATCH, "active", False)


class _Guard:
    def __enter__(self) -> None:
        _PATCH.active = True

    def __exit__(self, *exc: object) -> None:
        _PATCH.active = False


# --- subprocess -------------------------------------------------------------------------------


def _popen_argv(args: Any, executable: Any, shell: bool) -> list[str]:
    if isinstance(args, str | bytes | os.PathLike):
        args = [args]
    argv = [os.fsdecode(a) for a in args]
    if shell:
        argv = [os.fsdecode(executable) if executable else "/bin/sh", "-c", *argv]
    return argv


def _wrap_execute_child(original: Any) -> Any:
    signature = inspect.signature(original)

    def _execute_child(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _guarded():
            return original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        params = bound.arguments
        argv = _popen_argv(params["args"], params.get("executable"), bool(params.get("shell")))
        env = params.get("env")
        pattern = _agent_pattern()
        if (pattern is not None and not pattern.search(" ".join(argv))) or _set_up_elsewhere(env):
            return original(self, *args, **kwargs)
        with _Guard():
            span, agent, extra = _begin(os.path.basename(argv[0]) if argv else "process")
        params["env"] = node.prepare_env_leniently(
            {**(os.environ if env is None else env), **extra}, argv)
        try:
            result = original(*bound.args, **bound.kwargs)
        except BaseException as error:
            _failed(span, error)
            raise
        with _Guard():
            _started(span, agent, self.pid, argv, read_exe(self.pid))
        return result

    _execute_child.__wrapped__ = original  # type: ignore[attr-defined]
    return _execute_child


def _set_up_elsewhere(env: Any) -> bool:
    """True for a child that swarmscope.spawn_agent() (or a user with child_env()) already
    recorded: its explicit environment names an agent other than the one we are."""
    if not env:
        return False
    try:
        agent_id = env.get(c.ENV_AGENT_ID) or env.get(c.ENV_AGENT_ID.encode())
    except AttributeError:
        return False
    if isinstance(agent_id, bytes):
        agent_id = agent_id.decode(errors="replace")
    return bool(agent_id) and agent_id != config.inherited_agent()[0]


def _wrap_handle_exitstatus(original: Any) -> Any:
    def _handle_exitstatus(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not sys.is_finalizing():  # also called from __del__ at interpreter exit
            _exited(getattr(self, "pid", None), self.returncode)
        return result

    _handle_exitstatus.__wrapped__ = original  # type: ignore[attr-defined]
    return _handle_exitstatus


def _wrap_process_exited(original: Any) -> Any:
    def _process_exited(self: Any, returncode: int) -> Any:
        proc = getattr(self, "_proc", None)
        result = original(self, returncode)
        _exited(getattr(proc, "pid", None), returncode)
        return result

    _process_exited.__wrapped__ = original  # type: ignore[attr-defined]
    return _process_exited


# --- multiprocessing --------------------------------------------------------------------------


class _ChildEnv(dict):
    """The environment a multiprocessing child adopts. Pickled with the process object for
    spawn/forkserver children: unpickling it in the child applies the environment and starts
    swarmscope there, before the target runs (even if nothing else imports swarmscope)."""

    def __reduce__(self) -> tuple[Any, tuple[dict[str, str]]]:
        return (_restore_child_env, (dict(self),))


def _restore_child_env(env: dict[str, str]) -> _ChildEnv:
    """Runs in a spawn/forkserver child while its process object is unpickled."""
    import swarmscope

    _adopt(env)
    swarmscope.instrument()  # idempotent; also starts the session
    start_session()
    return _ChildEnv(env)


def _adopt(env: dict[str, str]) -> None:
    """Become the agent described by ``env`` (forked children inherited the parent's identity)."""
    os.environ.update(env)
    from swarmscope.record import telemetry

    tel = telemetry.current()
    if tel is None or tel.pid != os.getpid():
        return
    # a forked child keeps the parent's telemetry object: point it at its own identity
    carrier = {k.lower(): env[k] for k in (c.ENV_TRACEPARENT, c.ENV_TRACESTATE) if env.get(k)}
    if carrier:
        tel.parent_context = TraceContextTextMapPropagator().extract(carrier)
    tel.session.adopt(tel.parent_context if carrier else None)


def _mp_agent_name(process: Any) -> str:
    return str(process.name)


def _mp_match_text(process: Any) -> str:
    target = getattr(process, "_target", None)
    target_name = getattr(target, "__qualname__", "") if target is not None else ""
    return f"{process.name} {target_name}".strip()


def _wrap_mp_start(original: Any) -> Any:
    def start(self: Any) -> Any:
        pattern = _agent_pattern()
        if _guarded() or (pattern is not None and not pattern.search(_mp_match_text(self))):
            return original(self)
        with _Guard():
            span, agent, env = _begin(_mp_agent_name(self))
        self._swarmscope_env = _ChildEnv(env)
        try:
            result = original(self)
        except BaseException as error:
            _failed(span, error)
            raise
        with _Guard():
            _started(span, agent, self.pid, None, sys.executable)
        return result

    start.__wrapped__ = original  # type: ignore[attr-defined]
    return start


def _wrap_mp_bootstrap(original: Any) -> Any:
    def _bootstrap(self: Any, *args: Any, **kwargs: Any) -> Any:
        env = getattr(self, "_swarmscope_env", None)
        token = None
        if env:
            _adopt(dict(env))
            carrier = {k.lower(): env[k] for k in (c.ENV_TRACEPARENT,) if env.get(k)}
            if carrier:
                token = otel_context.attach(TraceContextTextMapPropagator().extract(carrier))
        try:
            return original(self, *args, **kwargs)
        finally:
            if token is not None:
                otel_context.detach(token)

    _bootstrap.__wrapped__ = original  # type: ignore[attr-defined]
    return _bootstrap


_FLUSH_REGISTERED = False


def flush_multiprocessing_children() -> None:
    """Have every multiprocessing child flush its telemetry at exit (registered once)."""
    global _FLUSH_REGISTERED
    if not _FLUSH_REGISTERED:
        import multiprocessing.util as mp_util

        mp_util.register_after_fork(_FLUSH_OWNER, _flush_at_mp_exit)
        _FLUSH_REGISTERED = True


class _FlushOwner:
    """The (weak-referenceable) owner multiprocessing's after-fork registry keys hooks by."""


_FLUSH_OWNER = _FlushOwner()


def _flush_at_mp_exit(_owner: object) -> None:
    """multiprocessing's after-fork hook (fork, spawn and forkserver children alike): its
    children leave through os._exit after running multiprocessing's finalizers, and
    ``BaseProcess._bootstrap`` clears finalizers registered before it, so register the flush
    from here, after that clear."""
    import multiprocessing.util as mp_util

    import swarmscope

    mp_util.Finalize(None, swarmscope.shutdown, exitpriority=-100)


def _wrap_unmarked(original: Any) -> Any:
    """multiprocessing's resource tracker and fork server outlive the program by design: start
    them without the session marker so the cleanup audit does not report them as orphans."""

    def ensure_running(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved = os.environ.pop(c.ENV_SESSION_ID, None)
        try:
            return original(self, *args, **kwargs)
        finally:
            if saved is not None:
                os.environ[c.ENV_SESSION_ID] = saved

    ensure_running.__wrapped__ = original  # type: ignore[attr-defined]
    return ensure_running


def _wrap_mp_poll(original: Any) -> Any:
    def poll(self: Any, *args: Any, **kwargs: Any) -> Any:
        code = original(self, *args, **kwargs)
        if code is not None:
            _exited(getattr(self, "pid", None), code)
        return code

    poll.__wrapped__ = original  # type: ignore[attr-defined]
    return poll


# --- what the instrumentor patches ------------------------------------------------------------


def targets() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, wrapper factory) for everything we patch."""
    import asyncio.base_subprocess
    import multiprocessing.forkserver
    import multiprocessing.popen_fork
    import multiprocessing.popen_forkserver
    import multiprocessing.process
    import multiprocessing.resource_tracker
    import subprocess

    return [
        (subprocess.Popen, "_execute_child", _wrap_execute_child),
        (subprocess.Popen, "_handle_exitstatus", _wrap_handle_exitstatus),
        (asyncio.base_subprocess.BaseSubprocessTransport, "_process_exited", _wrap_process_exited),
        (multiprocessing.process.BaseProcess, "start", _wrap_mp_start),
        (multiprocessing.process.BaseProcess, "_bootstrap", _wrap_mp_bootstrap),
        (multiprocessing.popen_fork.Popen, "poll", _wrap_mp_poll),
        (multiprocessing.popen_forkserver.Popen, "poll", _wrap_mp_poll),
        (multiprocessing.resource_tracker.ResourceTracker, "ensure_running", _wrap_unmarked),
        (multiprocessing.forkserver.ForkServer, "ensure_running", _wrap_unmarked),
    ]

