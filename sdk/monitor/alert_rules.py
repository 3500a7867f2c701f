"""The resource alert rules, run by the monitor after each sampling round (docs/live.md):
system memory over its line, a process's FDs near its own RLIMIT_NOFILE, a leak trend in a
process's RSS, FDs or threads (:mod:`swarmscope.monitor.trend`).

They read only what the round already measured, plus ``/proc/PID/limits`` now and then, so a
round stays cheap; they never raise (an alert rule must not stop the sampler).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from swarmscope import procfs
from swarmscope.conventions import AlertCondition, SystemMemoryState
from swarmscope.monitor import alert_config
from swarmscope.monitor.alerts import Alert, AlertSink, sink
from swarmscope.monitor.trend import Trend
from swarmscope.settings import ConfigError

if TYPE_CHECKING:
    from swarmscope.monitor.alert_config import AlertThresholds
    from swarmscope.monitor.samples import ProcessSample, SampledProcess, SystemSample

log = logging.getLogger("swarmscope.monitor")

LIMIT_REREAD_S = 5.0  # a process may change its own limit; re-read it at least this often
MIB = 1024 * 1024


class ResourceRules:
    """Judges each round of one monitor; remembers per process what the judging needs."""

    def __init__(self, thresholds: AlertThresholds, alerts: AlertSink | None = None) -> None:
        self.thresholds = thresholds
        self.alerts = alerts or sink()
        self.pid = os.getpid()  # a forked child's copy stays quiet (its parent judges)
        self._limits: dict[tuple[int, int], tuple[int | None, float, int]] = {}
        self._trends: dict[tuple[int, int, str], Trend] = {}

    @classmethod
    def create(cls) -> ResourceRules | None:
        """Rules with the configured thresholds; None (said once on stderr) when the alert
        thresholds file is bad: sampling goes on without alerts."""
        try:
            return cls(alert_config.load())
        except ConfigError as error:
            print(f"swarmscope: live alerts off: {error}", file=sys.stderr)
            return None

    def after_round(
        self, pairs: list[tuple[ProcessSample, SampledProcess]], system: SystemSample | None
    ) -> None:
        """Judge one round's running processes and the system figures; never raises."""
        if os.getpid() != self.pid:
            return
        try:
            if system is not None:
                self._system_memory(system)
            live = set()
            for sample, member in pairs:
                live.add((member.pid, member.start))
                self._fds(sample, member)
                self._leaks(sample, member)
            self._forget(live)
        except Exception:
            log.debug("alert rules failed", exc_info=True)

    # --- the rules -----------------------------------------------------------------------------
    def _system_memory(self, system: SystemSample) -> None:
        used = system.memory.get(str(SystemMemoryState.USED), 0)
        if not system.memory_total:
            return
        share, line = used / system.memory_total, self.thresholds.system_memory
        if share >= line:
            self.alerts.raise_alert(Alert(
                AlertCondition.SYSTEM_MEMORY, value=share, threshold=line,
                message=f"system memory {share * 100:.1f} % in use (alert line "
                        f"{line * 100:g} %): {used / MIB:,.0f} of "
                        f"{system.memory_total / MIB:,.0f} MiB",
            ))  # fmt: skip

    def _fds(self, sample: ProcessSample, member: SampledProcess) -> None:
        key = (member.pid, member.start)
        limit, read_at, fds_then = self._limits.get(key, (None, 0.0, -1))
        now = time.monotonic()
        # re-read when the count moved (a process lowers its own limit as it starts, so the
        # first reading may be the one it inherited) and now and then
        if sample.fds != fds_then or now - read_at >= LIMIT_REREAD_S:
            limit, read_at = procfs.read_nofile_limit(member.pid), now
            self._limits[key] = (limit, read_at, sample.fds)
        line = self.thresholds.fd_share
        if not limit or sample.fds < line * limit:
            return
        if read_at != now:  # confirm on the limit as it is now
            limit = procfs.read_nofile_limit(member.pid)
            self._limits[key] = (limit, now, sample.fds)
            if not limit or sample.fds < line * limit:
                return
        share = sample.fds / limit
        self.alerts.raise_alert(Alert(
            AlertCondition.FD_LIMIT, value=share, threshold=line,
            message=f"pid {member.pid} ({_name(member)}) has {sample.fds} of {limit} file "
                    f"descriptors open ({share * 100:.0f} % of its RLIMIT_NOFILE; alert line "
                    f"{line * 100:g} %)",
            pid=member.pid, start_ticks=member.start, agent_id=member.root.agent_id,
            agent_name=member.root.agent_name,
        ))  # fmt: skip

    def _leaks(self, sample: ProcessSample, member: SampledProcess) -> None:
        rule = self.thresholds.leak
        for series, value in (("rss", sample.rss), ("fds", sample.fds),
                              ("threads", sample.threads)):  # fmt: skip
            key = (member.pid, member.start, series)
            trend = self._trends.get(key)
            if trend is None:
                born = procfs.ticks_to_time(member.start)
                trend = self._trends[key] = Trend(rule, rule.growth[series], born)
            verdict = trend.add(sample.time, float(value))
            if verdict is None:
                continue
            self.alerts.raise_alert(Alert(
                AlertCondition.LEAK, value=verdict.slope, threshold=0.0,
                unit=_RATE_UNITS[series], series=series,
                message=f"pid {member.pid} ({_name(member)}) {series} grows "
                        f"{_rate(series, verdict.slope)} over the last {verdict.seconds:.0f}s "
                        f"(Mann-Kendall p={verdict.p_value:.1e}; at least "
                        f"{_amount(series, verdict.sure_growth)} of growth)",
                pid=member.pid, start_ticks=member.start, agent_id=member.root.agent_id,
                agent_name=member.root.agent_name,
            ))  # fmt: skip

    def _forget(self, live: set[tuple[int, int]]) -> None:
        """Drop what was kept for processes that were not in this round."""
        for key in [k for k in self._limits if k not in live]:
            del self._limits[key]
        for key in [k for k in self._trends if (k[0], k[1]) not in live]:
            del self._trends[key]


_RATE_UNITS = {"rss": "By/s", "fds": "{file_descriptor}/s", "threads": "{thread}/s"}


def _name(member: SampledProcess) -> str:
    return member.root.agent_name or member.root.agent_id or procfs.read_comm(member.pid) or "?"


def _rate(series: str, slope: float) -> str:
    if series == "rss":
        return f"{slope / MIB:.2f} MiB/s"
    return f"{slope * 60:.1f} per minute"


def _amount(series: str, growth: float) -> str:
    return f"{growth / MIB:.1f} MiB" if series == "rss" else f"{growth:.0f}"
