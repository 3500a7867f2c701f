"""The model behind ``swarmscope top``: a running session's agents and what is wrong with them,
built from the documents :mod:`.live` tails and refreshed from ``/proc``.

Agents come from ``create_agent`` spans (name, pid, parent) and end with ``terminate_agent``;
their figures come from metric points, matched by ``process.pid`` (RSS, CPU, FDs, threads, the
Python or V8 heap); alerts and audit events recorded in the spans mark hung workers and
leftovers. :meth:`LiveSession.refresh_states` then asks ``/proc`` whether each process still
runs as the same process (pid and start time), is a zombie or was orphaned, and reads its own
RLIMIT_NOFILE. Findings are derived in :mod:`.live_findings`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from swarmscope import conventions as c
from swarmscope import procfs
from swarmscope.monitor.alert_config import AlertThresholds
from swarmscope.monitor.trend import Trend, TrendVerdict
from swarmscope.watch.live import as_float, as_int, attributes, nanos

SPARK_POINTS = 60  # memory samples kept per agent for the sparkline
START_SLACK_S = 2.0  # a process started this close to its span's start is the agent's
LIMIT_REREAD_S = 5.0
MAX_AGENTS = 100_000  # a hostile file cannot grow the model without bound
MAX_ALERTS = 1_000

RUNNING, HUNG, ZOMBIE, ORPHAN, EXITED = "running", "hung", "zombie", "orphan", "exited"


@dataclass
class LiveAgent:
    """One agent of the session, as far as the files and /proc tell."""

    agent_id: str
    name: str
    pid: int | None = None
    parent_pid: int | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    kind: str | None = None
    role: str | None = None
    started: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    state: str = RUNNING
    rss: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=SPARK_POINTS))
    cpu: float | None = None  # cores
    fds: int | None = None
    fd_limit: int | None = None
    threads: int | None = None
    heap: float | None = None
    heap_unit: str | None = None  # "blocks" (CPython) or "bytes" (V8)
    trend: Trend | None = None
    leak: TrendVerdict | None = None
    busy_since: float | None = None  # first of the consecutive samples at a full core
    limit_read: float = 0.0
    limit_fds: int | None = -1  # the FD count when the limit was read

    @property
    def memory(self) -> float | None:
        return self.rss[-1][1] if self.rss else None

    def age(self, now: float) -> float | None:
        if self.started is None:
            return None
        return max(0.0, (self.ended or now) - self.started)


@dataclass
class LiveAlert:
    condition: str
    message: str
    time: float | None
    pid: int | None
    agent_id: str | None
    agent_name: str | None


class LiveSession:
    """Everything ``top`` knows about one session; fed documents, asked for rows."""

    def __init__(self, session_id: str, thresholds: AlertThresholds) -> None:
        self.session_id = session_id
        self.thresholds = thresholds
        self.agents: dict[str, LiveAgent] = {}
        self.by_pid: dict[int, LiveAgent] = {}  # the latest agent of each pid
        self.alerts: list[LiveAlert] = []
        self.leftovers: dict[int, str] = {}  # pid -> orphan | zombie (audit events)
        self.hung: set[int] = set()
        self.cpu_count = 1
        self._heap_parts: dict[tuple[int, float], float] = {}  # V8 spaces of one sample
        self._cpu_parts: dict[int, tuple[float, float]] = {}  # pid -> (time, sum of modes)

    # --- documents -----------------------------------------------------------------------------
    def feed(self, signal: str, document: dict[str, Any]) -> None:
        if signal == c.SIGNAL_TRACES:
            self._traces(document)
        elif signal == c.SIGNAL_METRICS:
            self._metrics(document)

    def _ours(self, resource: Any) -> dict[str, Any] | None:
        attrs = attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
        return attrs if attrs.get(c.SESSION_ID) == self.session_id else None

    def _traces(self, document: dict[str, Any]) -> None:
        for rs in _list(document.get("resourceSpans")):
            if self._ours(rs.get("resource")) is None:
                continue
            for ss in _list(rs.get("scopeSpans")):
                for span in _list(ss.get("spans")):
                    self._span(span)

    def _span(self, span: dict[str, Any]) -> None:
        attrs = attributes(span.get("attributes"))
        operation = attrs.get(c.GEN_AI_OPERATION_NAME)
        if operation == c.Operation.CREATE_AGENT:
            self._created(span, attrs)
        elif operation == c.Operation.TERMINATE_AGENT:
            self._terminated(span, attrs)
        for event in _list(span.get("events")):
            self._event(event)

    def _created(self, span: dict[str, Any], attrs: dict[str, Any]) -> None:
        agent_id = attrs.get(c.AGENT_INSTANCE_ID)
        if not isinstance(agent_id, str) or len(self.agents) >= MAX_AGENTS:
            return
        agent = self.agents.get(agent_id) or LiveAgent(agent_id, str(agent_id))
        name = attrs.get(c.GEN_AI_AGENT_NAME)
        agent.name = name if isinstance(name, str) and name else agent_id
        agent.pid = _pid(attrs.get(c.PROCESS_PID))
        agent.parent_pid = _pid(attrs.get(c.PROCESS_PARENT_PID))
        agent.span_id = _str(span.get("spanId"))
        agent.parent_span_id = _str(span.get("parentSpanId"))
        agent.kind = _str(attrs.get(c.AGENT_KIND))
        agent.role = _str(attrs.get(c.AGENT_ROLE))
        agent.started = nanos(span.get("startTimeUnixNano"))
        self.agents[agent_id] = agent
        if agent.pid is not None and agent.kind in (None, str(c.AgentKind.PROCESS)):
            self.by_pid[agent.pid] = agent
            agent.trend = Trend(self.thresholds.leak, self.thresholds.leak.growth["rss"],
                                agent.started or time.time())  # fmt: skip

    def _terminated(self, span: dict[str, Any], attrs: dict[str, Any]) -> None:
        agent = self.agents.get(str(attrs.get(c.AGENT_INSTANCE_ID)))
        if agent is None:
            return
        agent.ended = nanos(span.get("endTimeUnixNano")) or time.time()
        agent.exit_code = as_int(attrs.get(c.PROCESS_EXIT_CODE))
        agent.state = EXITED

    def _event(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        name, attrs = event.get("name"), attributes(event.get("attributes"))
        pid = _pid(attrs.get(c.PROCESS_PID))
        if name == c.EVENT_ALERT and len(self.alerts) < MAX_ALERTS:
            self.alerts.append(LiveAlert(
                str(attrs.get(c.ALERT_CONDITION, "?")), str(attrs.get(c.ALERT_MESSAGE, "")),
                nanos(event.get("timeUnixNano")), pid, _str(attrs.get(c.AGENT_INSTANCE_ID)),
                _str(attrs.get(c.GEN_AI_AGENT_NAME)),
            ))  # fmt: skip
            if attrs.get(c.ALERT_CONDITION) == c.AlertCondition.HUNG and pid is not None:
                self.hung.add(pid)
        elif name == c.EVENT_HUNG and pid is not None:
            self.hung.add(pid)
        elif name in (c.EVENT_ORPHAN, c.EVENT_ZOMBIE) and pid is not None:
            self.leftovers[pid] = ORPHAN if name == c.EVENT_ORPHAN else ZOMBIE

    # --- metric points ---------------------------------------------------------------------------
    def _metrics(self, document: dict[str, Any]) -> None:
        for rm in _list(document.get("resourceMetrics")):
            resource = self._ours(rm.get("resource"))
            if resource is None:
                continue
            cpus = as_int(resource.get(c.HOST_CPU_COUNT))
            if cpus and 0 < cpus < 100_000:
                self.cpu_count = cpus
            for sm in _list(rm.get("scopeMetrics")):
                for metric in _list(sm.get("metrics")):
                    self._metric(metric)

    def _metric(self, metric: Any) -> None:
        if not isinstance(metric, dict):
            return
        handler = _HANDLERS.get(metric.get("name"))
        if handler is None:
            return
        body = metric.get("gauge") or metric.get("sum")
        for point in _list(body.get("dataPoints") if isinstance(body, dict) else None):
            attrs = attributes(point.get("attributes"))
            agent = self.by_pid.get(_pid(attrs.get(c.PROCESS_PID)) or -1)
            at = nanos(point.get("timeUnixNano"))
            value = as_float(point.get("asDouble", point.get("asInt")))
            if agent is not None and at is not None and value is not None:
                handler(self, agent, at, value, attrs)

    def _rss(self, agent: LiveAgent, at: float, value: float, _attrs: dict[str, Any]) -> None:
        if agent.rss and at <= agent.rss[-1][0]:
            return
        agent.rss.append((at, value))
        if agent.trend is not None:
            verdict = agent.trend.add(at, value)
            if verdict is not None:
                agent.leak = verdict

    def _cpu(self, agent: LiveAgent, at: float, value: float, _attrs: dict[str, Any]) -> None:
        pid = agent.pid or 0
        last = self._cpu_parts.get(pid)
        total = (last[1] if last and last[0] == at else 0.0) + value  # user + system modes
        self._cpu_parts[pid] = (at, total)
        agent.cpu = total * self.cpu_count
        busy = agent.cpu >= BUSY_CORES
        if busy and agent.busy_since is None:
            agent.busy_since = at
        elif not busy and (last is None or last[0] != at):
            agent.busy_since = None

    def _fds(self, agent: LiveAgent, _at: float, value: float, _attrs: dict[str, Any]) -> None:
        agent.fds = int(value)

    def _threads(self, agent: LiveAgent, _at: float, value: float, _a: dict[str, Any]) -> None:
        agent.threads = int(value)

    def _blocks(self, agent: LiveAgent, _at: float, value: float, _a: dict[str, Any]) -> None:
        agent.heap, agent.heap_unit = value, "blocks"

    def _v8(self, agent: LiveAgent, at: float, value: float, _a: dict[str, Any]) -> None:
        key = (agent.pid or 0, at)  # one point per heap space: the heap is their sum
        if len(self._heap_parts) > 10_000:
            self._heap_parts.clear()
        self._heap_parts[key] = self._heap_parts.get(key, 0.0) + value
        agent.heap, agent.heap_unit = self._heap_parts[key], "bytes"

    # --- /proc ---------------------------------------------------------------------------------
    def refresh_states(self, now: float | None = None) -> None:
        """Each agent's state as /proc shows it now, and its FD limit."""
        now = time.time() if now is None else now
        for agent in self.agents.values():
            agent.state = self._state(agent, now)

    def _state(self, agent: LiveAgent, now: float) -> str:
        if agent.ended is not None:
            return EXITED
        if agent.pid is None or agent.kind not in (None, str(c.AgentKind.PROCESS)):
            return RUNNING  # a thread or in-process agent lives as long as its spans say
        stat = procfs.read_stat(agent.pid)
        if stat is None or not _same_process(agent, stat.create_time):
            return EXITED
        if stat.is_zombie:
            return ZOMBIE
        if now - agent.limit_read >= LIMIT_REREAD_S or agent.fds != agent.limit_fds:
            # a process may change its own limit, usually as it starts
            agent.fd_limit, agent.limit_read = procfs.read_nofile_limit(agent.pid), now
            agent.limit_fds = agent.fds
        if agent.pid in self.hung:
            return HUNG
        if self.leftovers.get(agent.pid) == ORPHAN or _reparented(agent, stat.ppid):
            return ORPHAN
        return RUNNING


BUSY_CORES = 0.9  # a sample at this many cores or more counts toward spinning

_HANDLERS = {
    c.PROCESS_MEMORY_USAGE: LiveSession._rss,
    c.PROCESS_CPU_UTILIZATION: LiveSession._cpu,
    c.PROCESS_FD_COUNT: LiveSession._fds,
    c.PROCESS_THREAD_COUNT: LiveSession._threads,
    c.HEAP_ALLOCATED_BLOCKS: LiveSession._blocks,
    c.V8JS_HEAP_USED: LiveSession._v8,
}


def _same_process(agent: LiveAgent, create_time: float) -> bool:
    """The pid still belongs to the agent's process (not recycled by a later one)."""
    return agent.started is None or create_time <= agent.started + START_SLACK_S


def _reparented(agent: LiveAgent, ppid: int) -> bool:
    """Its recorded parent is gone and another process (init, a subreaper) adopted it."""
    if agent.parent_pid is None or ppid == agent.parent_pid:
        return False
    return procfs.read_stat(agent.parent_pid) is None


def _list(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _pid(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and 0 < number < 2**31 else None
