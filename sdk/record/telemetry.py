"""Tracer and meter providers, exporters and their lifetime for one process.

``init()`` builds them once per process (idempotent) and ``shutdown()`` flushes them within a
bounded time, explicitly or at interpreter exit, on SIGTERM, and at the exit of multiprocessing
children (which skip atexit). After ``fork()`` the child gets its own files and sampler. The
exporters themselves are in :mod:`swarmscope.record.exporters`.
"""

from __future__ import annotations

import atexit
import logging
import os
import platform
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from swarmscope import __version__
from swarmscope import conventions as c
from swarmscope.record.exporters import (
    ReportingMetricExporter,
    ReportingSpanExporter,
    destination,
    file_exporters,
    otlp_exporters,
)
from swarmscope.record.session import Session
from swarmscope.settings import (
    ConfigError,
    Settings,
    check_writable_dir,
    inherited_agent,
    inherited_trace_carrier,
    resolve,
)

if TYPE_CHECKING:
    from opentelemetry.context import Context

logger = logging.getLogger("swarmscope")

_LOCK = threading.RLock()
_STATE: Telemetry | None = None
_FORK_HOOK_REGISTERED = False


def _ensure_log_handler() -> None:
    """Warnings about lost telemetry must reach a human even if logging was never configured."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("swarmscope: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def build_resource(settings: Settings) -> Resource:
    """Session identity, swarm configuration and the host facts reports need to read figures."""
    attributes: dict[str, Any] = {
        c.SERVICE_NAME: settings.service_name,
        c.SESSION_ID: settings.session_id,
        c.HOST_NAME: socket.gethostname(),
        c.HOST_CPU_COUNT: os.cpu_count() or 1,
        c.HOST_MEMORY_TOTAL: psutil.virtual_memory().total,
        c.OS_TYPE: platform.system().lower(),
        c.PROCESS_RUNTIME_NAME: sys.implementation.name,
        c.PROCESS_RUNTIME_VERSION: platform.python_version(),
        **settings.swarm,
    }
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME.
    return Resource.create(attributes)


def _env_parent_context() -> Context | None:
    """The trace context a parent handed us through TRACEPARENT/TRACESTATE, if any."""
    carrier = inherited_trace_carrier()
    if "traceparent" not in carrier:
        return None
    ctx = TraceContextTextMapPropagator().extract(carrier)
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def _start_monitor(state: Telemetry) -> None:
    if state.monitor is None:
        return
    try:
        state.monitor.start()
    except Exception as error:  # resource figures are a bonus; spans must still flow
        logger.warning("resource monitor unavailable, no process metrics: %r", error)
        state.monitor = None


def _create_monitor(settings: Settings, meter: Any) -> Any:
    """The resource sampler, when monitoring is wanted."""
    if not settings.monitor:
        return None
    from swarmscope.monitor.sampler import ResourceMonitor

    self_sampled = settings.monitored_by is None  # a parent samples our process otherwise
    monitor = ResourceMonitor(
        meter, interval=settings.sample_interval, system=self_sampled, python_runtime=True
    )
    if self_sampled:
        monitor.watch(os.getpid(), agent_id=inherited_agent()[0], descendants=False)
    return monitor  # started by init() once this process's telemetry is in place


class Telemetry:
    """One process's providers, exporters, monitor and session; see :func:`init`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.start_ns = time.time_ns()
        self.pid = os.getpid()
        self.resource = build_resource(settings)
        self.files: dict[str, Path] = {}
        self._span_exporter, self._metric_exporter = self._make_exporters()
        self.tracer_provider = TracerProvider(resource=self.resource, shutdown_on_exit=False)
        if self._span_exporter is not None:
            self.tracer_provider.add_span_processor(
                BatchSpanProcessor(
                    self._span_exporter,
                    schedule_delay_millis=min(1000, int(settings.sample_interval * 1000)),
                    export_timeout_millis=int(settings.export_timeout * 1000),
                )
            )
        readers = []
        if self._metric_exporter is not None:
            readers.append(
                PeriodicExportingMetricReader(
                    self._metric_exporter,
                    export_interval_millis=settings.sample_interval * 1000,
                    export_timeout_millis=settings.export_timeout * 1000,
                )
            )
        self.meter_provider = MeterProvider(
            resource=self.resource, metric_readers=readers, shutdown_on_exit=False
        )
        self.tracer = self.tracer_provider.get_tracer(c.SCOPE_NAME, __version__)
        self.meter = self.meter_provider.get_meter(c.SCOPE_NAME, __version__)
        self.parent_context = _env_parent_context()
        self._set_globals()
        try:
            self.monitor = _create_monitor(settings, self.meter)
        except Exception as error:  # resource figures are a bonus; spans must still flow
            logger.warning("resource monitor unavailable, no process metrics: %r", error)
            self.monitor = None
        self.session = Session(self)
        self._closed = False

    # -- construction helpers --
    def _make_exporters(
        self,
    ) -> tuple[ReportingSpanExporter | None, ReportingMetricExporter | None]:
        if self.settings.exporter == "none":
            return None, None
        if self.settings.exporter == "file":
            spans, metrics, self.files = file_exporters(self.settings, self.start_ns)
            to_spans = to_metrics = str(self.settings.data_dir / "sdk")
        else:
            spans, metrics = otlp_exporters(self.settings)
            to_spans = destination(spans, self.settings)
            to_metrics = destination(metrics, self.settings)
        return (
            ReportingSpanExporter(spans, to_spans),
            ReportingMetricExporter(metrics, to_metrics),
        )

    def _set_globals(self) -> None:
        """Become the global providers unless the program already chose its own."""
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            trace.set_tracer_provider(self.tracer_provider)
        from opentelemetry import metrics
        from opentelemetry.metrics import _internal as metrics_internal

        if isinstance(metrics.get_meter_provider(), metrics_internal._ProxyMeterProvider):
            metrics.set_meter_provider(self.meter_provider)

    @property
    def session_id(self) -> str:
        return self.settings.session_id

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def losses(self) -> list[str]:
        """Human-readable summaries of telemetry that could not be exported so far."""
        exporters = (self._span_exporter, self._metric_exporter)
        return [s for e in exporters if e is not None and (s := e.loss.summary())]

    # -- fork --
    def after_fork_in_child(self) -> None:
        """Give the child its own files and sampler; the parent's queues were already dropped."""
        self.pid = os.getpid()
        self.start_ns = time.time_ns()
        if self.settings.exporter == "file" and self._span_exporter and self._metric_exporter:
            old_spans, old_metrics = self._span_exporter.inner, self._metric_exporter.inner
            spans, metrics, self.files = file_exporters(self.settings, self.start_ns)
            self._span_exporter.inner, self._metric_exporter.inner = spans, metrics
            for old in (old_spans, old_metrics):  # closes only the child's copy of the fd
                try:
                    old.shutdown()
                except Exception:
                    pass
        self.session.after_fork_in_child()
        if self.monitor is not None:
            # the child samples itself only: the parent's agents are still the parent's to watch
            self.monitor.after_fork_in_child()
        _register_multiprocessing_flush()

    # -- shutdown --
    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush and stop everything within ``timeout`` seconds; False when something was cut."""
        if self._closed:
            return True
        self._closed = True
        deadline = time.monotonic() + timeout
        try:
            self.session.finish()
        except Exception as error:  # cleanup reporting must never break the program's exit
            logger.warning("session end failed: %r", error)
        if self.monitor is not None:
            try:
                self.monitor.stop(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
            except Exception as error:
                logger.debug("monitor stop failed: %r", error)
        done = _run_bounded(
            [self._shutdown_traces, self._shutdown_metrics], max(0.1, deadline - time.monotonic())
        )
        for summary in self.losses():
            logger.warning(summary)
        if not done:
            logger.warning(
                "telemetry flush did not finish within %.1fs; unsent telemetry for %s was dropped",
                timeout,
                self._destination(),
            )
        return done

    def _destination(self) -> str:
        exporter = self._span_exporter
        return exporter.loss.destination if exporter is not None else "nowhere"

    def _shutdown_traces(self) -> None:
        self.tracer_provider.force_flush(int(self.settings.export_timeout * 1000))
        self.tracer_provider.shutdown()

    def _shutdown_metrics(self) -> None:
        self.meter_provider.shutdown(timeout_millis=self.settings.export_timeout * 1000)


def _run_bounded(jobs: list[Callable[[], None]], timeout: float) -> bool:
    """Run ``jobs`` in parallel daemon threads; True when all finished within ``timeout``."""
    threads = []
    for job in jobs:

        def guarded(job: Callable[[], None] = job) -> None:
            try:
                job()
            except Exception as error:
                logger.debug("shutdown step failed: %r", error)

        thread = threading.Thread(target=guarded, name="swarmscope-shutdown", daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)


def _after_fork_in_child() -> None:
    state = _STATE
    if state is None:
        return
    try:
        state.after_fork_in_child()
    except Exception as error:
        logger.warning("telemetry could not be re-created after fork: %r", error)


SIGTERM_FLUSH_TIMEOUT_S = 2.0


def _install_sigterm_flush() -> None:
    """Flush before dying of SIGTERM, then die of it all the same.

    Agents are usually stopped with SIGTERM, whose default action skips atexit: the last
    batch of spans and metrics would be lost. Only a default disposition is replaced (a
    program's own handler stays in charge), and the process still ends by SIGTERM, so its
    parent sees the same exit status.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _flush_and_die)
    except (ValueError, OSError):  # not the main interpreter, or signals unavailable
        pass


def _flush_and_die(signum: int, _frame: Any) -> None:
    try:
        shutdown(SIGTERM_FLUSH_TIMEOUT_S)
    finally:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _register_multiprocessing_flush(_state: object = None) -> None:
    """multiprocessing children leave through os._exit (no atexit): flush from its exit hook."""
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, shutdown, exitpriority=-100)


def _hook_multiprocessing(state: Telemetry) -> None:
    """A forked worker clears its finalizers at start, then runs the after-fork callbacks:
    register the flush from there. A spawned worker that calls init() registers it now."""
    import multiprocessing
    import multiprocessing.util

    multiprocessing.util.register_after_fork(state, _register_multiprocessing_flush)
    if multiprocessing.parent_process() is not None:
        _register_multiprocessing_flush()


def init(
    service_name: str | None = None,
    session_id: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    exporter: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    sample_interval: float | None = None,
    topology: str | None = None,
    strategy: str | None = None,
    max_agents: int | None = None,
    persistence: str | bool | None = None,
    monitor: bool = True,
) -> Telemetry:
    """Set up tracing, metrics and the resource monitor for this process, once.

    Later calls return the same :class:`Telemetry` (their arguments are ignored) until
    :func:`shutdown`. Raises :class:`swarmscope.settings.ConfigError` naming a bad setting.
    """
    global _STATE, _FORK_HOOK_REGISTERED
    with _LOCK:
        if _STATE is not None:
            return _STATE
        _ensure_log_handler()
        settings = resolve(
            service_name=service_name,
            session_id=session_id,
            data_dir=data_dir,
            exporter=exporter,
            endpoint=endpoint,
            protocol=protocol,
            sample_interval=sample_interval,
            topology=topology,
            strategy=strategy,
            max_agents=max_agents,
            persistence=persistence,
            monitor=monitor,
        )
        _STATE = Telemetry(settings)
        # Sample only now: an alert raised by the first round records itself through the
        # session (telemetry.current()), which a monitor started in the constructor would miss.
        _start_monitor(_STATE)
        atexit.register(shutdown)
        _install_sigterm_flush()
        _hook_multiprocessing(_STATE)
        if not _FORK_HOOK_REGISTERED and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _FORK_HOOK_REGISTERED = True
        return _STATE


def get() -> Telemetry:
    """The current telemetry, initialising it with defaults when needed."""
    state = _STATE
    return state if state is not None else init()


def current() -> Telemetry | None:
    """The current telemetry, or None when init() has not run (or shutdown() has)."""
    return _STATE


def shutdown(timeout: float = 5.0) -> bool:
    """Flush and stop this process's telemetry within ``timeout`` seconds (also run at exit)."""
    global _STATE
    with _LOCK:
        state, _STATE = _STATE, None
    if state is None:
        return True
    atexit.unregister(shutdown)
    return state.shutdown(timeout)


__all__ = [
    "ConfigError",
    "ReportingMetricExporter",
    "ReportingSpanExporter",
    "Telemetry",
    "check_writable_dir",
    "current",
    "get",
    "init",
    "shutdown",
]
