"""Auto-instrumentation: agent spawn and terminate for the ways Python starts processes.

``opentelemetry-instrument python app.py`` (through the ``opentelemetry_instrumentor`` entry
point) or ``swarmscope.instrument()`` in code patches:

* ``subprocess.Popen`` (and everything built on it: ``subprocess.run``, ``os.popen``, asyncio
  subprocesses) — spawn in ``_execute_child``, exit where the status is collected
  (``_handle_exitstatus``; asyncio's child watcher through ``_process_exited``);
* ``multiprocessing`` processes with the fork, spawn and forkserver start methods, which also
  covers ``concurrent.futures.ProcessPoolExecutor`` workers — spawn in ``BaseProcess.start``,
  exit in the start methods' ``poll``.

Every child gets a ``create_agent`` span (pid, parent pid, executable, command line when
``SWARMSCOPE_RECORD_COMMAND_LINES`` is on, redacted), is watched by the resource monitor, and gets a
``terminate_agent`` span (exit code, signal, reason) when the program collects its status.
Children receive the session id, their agent id and the ``create_agent`` span as TRACEPARENT in
their environment; multiprocessing spawn/forkserver children re-initialise swarmscope while
unpickling their process object, before the target runs, so their own spans land in the same
session and trace. ``SWARMSCOPE_AGENT_PATTERN`` (a regex) limits which children count as
agents: it is matched against the command line (Popen) or ``"<process name> <target>"``
(multiprocessing).

The instrumentor calls :func:`swarmscope.init` itself, so telemetry reaches the embedded
default files (or OTLP when an endpoint is configured) without any other setup.

It also attributes CPU and memory to in-process agents - the agents of frameworks that run
as coroutines or threads and emit ``invoke_agent`` spans (:mod:`swarmscope.record.inproc`):
a span processor on the active TracerProvider (``tracer_provider=`` when the program passes
its own) and a stepping wrapper on asyncio tasks; ``_uninstrument`` removes both.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from swarmscope.record import inproc_setup, patches


class SwarmscopeInstrumentor(BaseInstrumentor):
    """Records agent spawn/terminate for subprocess, multiprocessing and asyncio children."""

    _originals: list[tuple[Any, str, Any]] = []

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        for owner, name, wrap in patches.targets():
            original = owner.__dict__[name]
            self._originals.append((owner, name, original))
            setattr(owner, name, wrap(original))
        patches.flush_multiprocessing_children()
        if not patches.defer_init():
            patches.start_session()
            inproc_setup.switch_on(**kwargs)

    def _uninstrument(self, **kwargs: Any) -> None:
        inproc_setup.switch_off()
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()
        patches.forget()


class SwarmscopeConfigurator:
    """``opentelemetry_configurator`` entry point: with ``OTEL_PYTHON_CONFIGURATOR=swarmscope``
    (or when no other configurator is installed) swarmscope's providers become the global ones,
    so spans made through the plain OpenTelemetry API land in the session's files as well."""

    def configure(self, **kwargs: Any) -> None:
        # "configurator not loaded, swarmscope already loaded" is the intended outcome
        import logging

        logging.getLogger("opentelemetry.instrumentation.auto_instrumentation._load").addFilter(
            lambda record: "swarmscope already loaded" not in record.getMessage()
        )
        if not patches.defer_init():
            import swarmscope

            swarmscope.init()


def instrument(**kwargs: Any) -> SwarmscopeInstrumentor:
    """``swarmscope.instrument()``: the same as running under ``opentelemetry-instrument``."""
    instrumentor = SwarmscopeInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(**kwargs)
    return instrumentor


def uninstrument() -> None:
    """Undo :func:`instrument`: every patched attribute is restored."""
    SwarmscopeInstrumentor().uninstrument()
