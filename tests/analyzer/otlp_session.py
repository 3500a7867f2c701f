"""Sessions written as OTLP JSON Lines, the way the sdk and the watcher write them, then
ingested into a real DuckDB file and graded.

A test describes processes (create_agent / terminate_agent spans with pid, parent pid, role,
exit), their samples (metric points carrying process.pid and swarm.agent.id) and the cleanup
audit's events; ``grade()`` writes the files, ingests them and grades the session.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmscope import conventions as C
from swarmscope.analyzer.api import grade
from swarmscope.analyzer.config import load_config
from swarmscope.analyzer.ingest import ingest
from swarmscope.analyzer.results import SessionGrade

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
TRACE = "5b8efff798038103d269b633813fc60c"
_ids = itertools.count(1)


def kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def _ts(t_s: float) -> str:
    return str(T0 + int(t_s * NS))


@dataclass
class Proc:
    name: str
    pid: int
    agent_id: str
    span_id: str
    start_s: float
    end_s: float | None


@dataclass
class OtlpSession:
    session_id: str = "sess-otlp"
    cpu_count: int = 2
    spans: list[dict[str, Any]] = field(default_factory=list)
    points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def process(self, name: str, pid: int, start_s: float, end_s: float | None, *,
                parent_pid: int = 1, role: str | None = None, exit_code: int = 0,
                parent: Proc | None = None, reason: str | None = None) -> Proc:
        """A watched process: its create_agent span and, when it ended, terminate_agent."""
        agent_id = f"{name.replace(' ', '-')}-{next(_ids):08x}"
        span_id = f"{next(_ids):016x}"
        attrs = [kv(C.GEN_AI_OPERATION_NAME, str(C.Operation.CREATE_AGENT)),
                 kv(C.AGENT_INSTANCE_ID, agent_id), kv(C.GEN_AI_AGENT_NAME, name),
                 kv(C.AGENT_KIND, str(C.AgentKind.PROCESS)), kv(C.PROCESS_PID, pid),
                 kv(C.PROCESS_PARENT_PID, parent.pid if parent else parent_pid)]
        if role is not None:
            attrs.append(kv(C.AGENT_ROLE, role))
        self._span(f"create_agent {name}", span_id, parent.span_id if parent else None,
                   start_s, start_s + 0.001, attrs)
        if end_s is not None:
            reason = reason or str(C.TerminationReason.GRACEFUL if exit_code == 0
                                   else C.TerminationReason.CRASHED)
            self._span(f"terminate_agent {name}", f"{next(_ids):016x}", span_id, end_s,
                       end_s + 0.001,
                       [kv(C.GEN_AI_OPERATION_NAME, str(C.Operation.TERMINATE_AGENT)),
                        kv(C.AGENT_INSTANCE_ID, agent_id), kv(C.GEN_AI_AGENT_NAME, name),
                        kv(C.PROCESS_PID, pid), kv(C.PROCESS_EXIT_CODE, exit_code),
                        kv(C.TERMINATION_REASON, reason)])
        return Proc(name, pid, agent_id, span_id, start_s, end_s)

    def audit(self, t_s: float, events: list[tuple[str, dict[str, Any]]]) -> None:
        """The audit_cleanup span with its orphan / zombie / hung events."""
        span = self._span(C.SPAN_CLEANUP_AUDIT, f"{next(_ids):016x}", None, t_s, t_s + 0.01,
                          [])
        span["events"] = [{"timeUnixNano": _ts(t_s), "name": name,
                           "attributes": [kv(k, v) for k, v in attrs.items()]}
                          for name, attrs in events]

    def sample(self, metric: str, proc: Proc | None, t_s: float, value: float,
               **attrs: Any) -> None:
        """One gauge point; a process's points carry its pid and agent id."""
        point_attrs = [kv(k.replace("__", "."), v) for k, v in attrs.items()]
        if proc is not None:
            point_attrs += [kv(C.PROCESS_PID, proc.pid), kv(C.AGENT_INSTANCE_ID, proc.agent_id)]
        self.points.setdefault(metric, []).append(
            {"timeUnixNano": _ts(t_s), "asDouble": float(value), "attributes": point_attrs})

    def run_samples(self, proc: Proc, cores: float, rss: float = 40e6, every: float = 0.5,
                    voluntary_per_s: float | None = None) -> None:
        """RSS and CPU utilisation (``cores`` busy) over the process's life."""
        t, end = proc.start_s + 0.05, proc.end_s if proc.end_s is not None else proc.start_s
        n = 0
        while t <= end:
            self.sample(C.PROCESS_MEMORY_USAGE, proc, t, rss)
            self.sample(C.PROCESS_CPU_UTILIZATION, proc, t, cores / self.cpu_count,
                        cpu__mode="user")
            if voluntary_per_s is not None:
                self.sample(C.PROCESS_CONTEXT_SWITCHES, proc, t, n * every * voluntary_per_s,
                            process__context_switch__type="voluntary")
            t += every
            n += 1

    def own_samples(self, pid: int, until_s: float, rss: float = 60e6,
                    every: float = 0.5) -> None:
        """RSS of a process of the session that is no agent (the orchestrator itself)."""
        t = 0.0
        while t <= until_s:
            self.points.setdefault("process.memory.usage", []).append(
                {"timeUnixNano": _ts(t), "asDouble": rss,
                 "attributes": [kv(C.PROCESS_PID, pid)]})
            t += every

    def host_samples(self, until_s: float, load: float = 0.4, every: float = 0.5) -> None:
        t = 0.0
        while t <= until_s:
            self.sample(C.SYSTEM_LOAD_1M, None, t, load)
            t += every

    def _span(self, name: str, span_id: str, parent: str | None, start_s: float,
              end_s: float, attrs: list[dict[str, Any]]) -> dict[str, Any]:
        span = {"traceId": TRACE, "spanId": span_id, "name": name, "kind": "SPAN_KIND_INTERNAL",
                "startTimeUnixNano": _ts(start_s), "endTimeUnixNano": _ts(end_s),
                "attributes": attrs}
        if parent:
            span["parentSpanId"] = parent
        self.spans.append(span)
        return span

    def write(self, data_dir: Path) -> None:
        resource = {"attributes": [kv(C.SESSION_ID, self.session_id),
                                   kv(C.SERVICE_NAME, "watched"),
                                   kv(C.HOST_CPU_COUNT, self.cpu_count)]}
        data_dir.mkdir(parents=True, exist_ok=True)
        traces = {"resourceSpans": [{"resource": resource,
                                     "scopeSpans": [{"spans": self.spans}]}]}
        metrics = [{"name": name, "unit": "1", "gauge": {"dataPoints": points}}
                   for name, points in self.points.items()]
        lines = [json.dumps(traces)]
        if metrics:
            lines.append(json.dumps({"resourceMetrics": [
                {"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}))
        (data_dir / f"{self.session_id}.jsonl").write_text("\n".join(lines) + "\n")

    def grade(self, data_dir: Path, config: Path | None = None) -> SessionGrade:
        self.write(data_dir)
        summary = ingest([data_dir], data_dir, progress=False)
        assert summary.errors == [], summary.errors
        return grade(self.session_id, data_dir, load_config(config), ingest_first=False)
