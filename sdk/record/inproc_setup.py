"""Switching in-process agent attribution on and off (the instrumentor does both).

On: a ledger (cheap counters, or tracemalloc with ``SWARMSCOPE_TRACEMALLOC=1``), the span
processor on the active TracerProvider - the one passed as ``tracer_provider=``, else the
global one (swarmscope's own unless the program set one up first) - the stepping wrapper on
asyncio's ``create_task``, the hand-off wrappers on thread pools
(:mod:`swarmscope.record.handoff`), and the per-agent instruments on the session's meter (the
global meter when the program brought its own providers). Off: the wrappers are removed and
the ledger turns inert, which makes the processor (a TracerProvider cannot drop one) and the
instruments do nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import metrics, trace
from swarmscope import __version__, settings
from swarmscope import conventions as c
from swarmscope.monitor.agent_instruments import create_agent_instruments
from swarmscope.monitor.attribution import Ledger
from swarmscope.record.handoff import ThreadHandoff
from swarmscope.record.inproc import AgentSpanProcessor
from swarmscope.record.steps import TaskStepping

logger = logging.getLogger("swarmscope")


class InprocAttribution:
    """The ledger, processor and stepping wrapper of one instrumentation."""

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None,
                 exact: bool | None = None) -> None:
        self.ledger = Ledger(exact=settings.tracemalloc_mode() if exact is None else exact)
        self.processor = AgentSpanProcessor(self.ledger)
        self.stepping = TaskStepping(self.ledger, self.processor.owner_of_context)
        self.handoff = ThreadHandoff(self.ledger, self.processor.owner_of_context)
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider

    def start(self) -> bool:
        provider, own = _tracer_provider(self._tracer_provider)
        if provider is None:
            logger.info("no OpenTelemetry SDK TracerProvider: in-process agents not attributed")
            self.ledger.active = False
            return False
        provider.add_span_processor(self.processor)
        self.stepping.install()
        self.handoff.install()
        create_agent_instruments(_meter(self._meter_provider, own), self.ledger)
        return True

    def stop(self) -> None:
        self.ledger.active = False
        self.stepping.uninstall()
        self.handoff.uninstall()


def _tracer_provider(explicit: Any) -> tuple[Any, bool]:
    """(the provider to join, whether it is swarmscope's own)."""
    from swarmscope.record import telemetry

    tel = telemetry.current()
    ours = tel.tracer_provider if tel is not None else None
    provider = explicit if explicit is not None else trace.get_tracer_provider()
    if not hasattr(provider, "add_span_processor"):
        provider = ours  # the global is still a proxy: swarmscope's own will serve
    return provider, provider is not None and provider is ours


def _meter(explicit: Any, own_tracing: bool) -> Any:
    from swarmscope.record import telemetry

    if explicit is not None:
        return explicit.get_meter(c.SCOPE_NAME, __version__)
    tel = telemetry.current()
    if own_tracing and tel is not None:
        return tel.meter
    return metrics.get_meter(c.SCOPE_NAME, __version__)


_ACTIVE: InprocAttribution | None = None


def switch_on(**kwargs: Any) -> InprocAttribution | None:
    """Start attribution once (``tracer_provider=`` / ``meter_provider=`` as for instrument)."""
    global _ACTIVE
    if _ACTIVE is None:
        attribution = InprocAttribution(kwargs.get("tracer_provider"),
                                        kwargs.get("meter_provider"))
        if attribution.start():
            _ACTIVE = attribution
    return _ACTIVE


def switch_off() -> None:
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.stop()
        _ACTIVE = None


def active() -> InprocAttribution | None:
    return _ACTIVE
