"""The resource monitor's observable instruments: names, units and point attributes.

Callbacks only read the monitor's latest round, so an export never touches ``/proc``; the first
process callback of a collection lets the monitor refresh a stale round (see
:meth:`ResourceMonitor.current`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from swarmscope.conventions import (
    PROCESS_CONTEXT_SWITCHES,
    PROCESS_CPU_TIME,
    PROCESS_CPU_UTILIZATION,
    PROCESS_FD_COUNT,
    PROCESS_MEMORY_USAGE,
    PROCESS_MEMORY_VIRTUAL,
    PROCESS_STATE,
    PROCESS_THREAD_COUNT,
    SYSTEM_LOAD_1M,
    SYSTEM_LOAD_5M,
    SYSTEM_LOAD_15M,
    SYSTEM_MEMORY_STATE,
    SYSTEM_MEMORY_USAGE,
    SYSTEM_MEMORY_UTILIZATION,
    SYSTEM_PROCESS_COUNT,
    UNITS,
)

if TYPE_CHECKING:
    from swarmscope.monitor.sampler import ResourceMonitor


def create_instruments(meter: Meter, monitor: ResourceMonitor, system: bool = True) -> None:
    """Register the process (and, with ``system``, the system) instruments on ``meter``."""
    _Observers(monitor)._register(meter, system)


class _Observers:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.monitor = monitor

    def _register(self, meter: Meter, system: bool) -> None:
        def unit(name: str) -> dict[str, str]:
            return {"unit": UNITS[name]}

        # No descriptions: the OTLP JSON encoder writes an instrument's description on every
        # metrics line (it omits an empty one), ~850 bytes per line for these and the CPython
        # instruments, and nothing reads them back; what each instrument means is in the
        # comments here and in docs/conventions.md.
        # Registration order matters: the first process callback refreshes a stale snapshot.
        # resident set size
        meter.create_observable_up_down_counter(
            PROCESS_MEMORY_USAGE, [self._observe_rss],
            **unit(PROCESS_MEMORY_USAGE))  # fmt: skip
        # Virtual memory size
        meter.create_observable_up_down_counter(
            PROCESS_MEMORY_VIRTUAL, [self._observe_vms],
            **unit(PROCESS_MEMORY_VIRTUAL))  # fmt: skip
        # CPU time by mode
        meter.create_observable_counter(
            PROCESS_CPU_TIME, [self._observe_cpu_time],
            **unit(PROCESS_CPU_TIME))  # fmt: skip
        # CPU time per wall time per CPU since the previous sample, by mode
        meter.create_observable_gauge(
            PROCESS_CPU_UTILIZATION, [self._observe_cpu_util],
            **unit(PROCESS_CPU_UTILIZATION))  # fmt: skip
        # Threads
        meter.create_observable_up_down_counter(
            PROCESS_THREAD_COUNT, [self._observe_threads],
            **unit(PROCESS_THREAD_COUNT))  # fmt: skip
        # Open file descriptors
        meter.create_observable_up_down_counter(
            PROCESS_FD_COUNT, [self._observe_fds],
            **unit(PROCESS_FD_COUNT))  # fmt: skip
        # Context switches by type
        meter.create_observable_counter(
            PROCESS_CONTEXT_SWITCHES, [self._observe_ctx],
            **unit(PROCESS_CONTEXT_SWITCHES))  # fmt: skip
        if not system:
            return
        # Memory by state
        meter.create_observable_up_down_counter(
            SYSTEM_MEMORY_USAGE, [self._observe_sys_memory],
            **unit(SYSTEM_MEMORY_USAGE))  # fmt: skip
        # Share of memory by state
        meter.create_observable_gauge(
            SYSTEM_MEMORY_UTILIZATION, [self._observe_sys_memory_util],
            **unit(SYSTEM_MEMORY_UTILIZATION))  # fmt: skip
        for index, name in enumerate((SYSTEM_LOAD_1M, SYSTEM_LOAD_5M, SYSTEM_LOAD_15M)):
            # Load average
            meter.create_observable_gauge(
                name, [self._load_callback(index)], **unit(name)
            )
        # Processes by state
        meter.create_observable_up_down_counter(
            SYSTEM_PROCESS_COUNT, [self._observe_process_count],
            **unit(SYSTEM_PROCESS_COUNT))  # fmt: skip


    def _observe_rss(self, _o: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.rss, m.attrs) for s, m in self.monitor.current()]

    def _observe_vms(self, _o: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.vms, m.attrs) for s, m in self.monitor.latest()]

    def _observe_cpu_time(self, _o: CallbackOptions) -> Iterable[Observation]:
        out = []
        for s, m in self.monitor.latest():
            out.append(Observation(s.cpu_user, m.user))
            out.append(Observation(s.cpu_system, m.system))
        return out

    def _observe_cpu_util(self, _o: CallbackOptions) -> Iterable[Observation]:
        out = []
        for s, m in self.monitor.latest():  # one point per cpu.mode, like process.cpu.time
            out.append(Observation(s.cpu_utilization_user, m.user))
            out.append(Observation(s.cpu_utilization_system, m.system))
        return out

    def _observe_threads(self, _o: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.threads, m.attrs) for s, m in self.monitor.latest()]

    def _observe_fds(self, _o: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.fds, m.attrs) for s, m in self.monitor.latest()]

    def _observe_ctx(self, _o: CallbackOptions) -> Iterable[Observation]:
        out = []
        for s, m in self.monitor.latest():
            out.append(Observation(s.ctx_voluntary, m.voluntary))
            out.append(Observation(s.ctx_involuntary, m.involuntary))
        return out

    def _observe_sys_memory(self, _o: CallbackOptions) -> Iterable[Observation]:
        sys_ = self.monitor.system_sample
        if sys_ is None:
            return []
        return [Observation(v, {SYSTEM_MEMORY_STATE: k}) for k, v in sys_.memory.items()]

    def _observe_sys_memory_util(self, _o: CallbackOptions) -> Iterable[Observation]:
        sys_ = self.monitor.system_sample
        if sys_ is None or not sys_.memory_total:
            return []
        total = sys_.memory_total
        return [Observation(v / total, {SYSTEM_MEMORY_STATE: k}) for k, v in sys_.memory.items()]

    def _load_callback(self, index: int):
        def observe(_o: CallbackOptions) -> Iterable[Observation]:
            sys_ = self.monitor.system_sample
            return [] if sys_ is None else [Observation(sys_.load[index])]

        return observe

    def _observe_process_count(self, _o: CallbackOptions) -> Iterable[Observation]:
        sys_ = self.monitor.system_sample
        if sys_ is None:
            return []
        return [Observation(n, {PROCESS_STATE: k}) for k, n in sys_.process_counts.items()]
