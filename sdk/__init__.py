"""swarmscope: OpenTelemetry for AI agent swarms.

```python
import swarmscope

swarmscope.init(topology="mesh", strategy="balanced", max_agents=5)
agent = swarmscope.spawn_agent("coder", ["python", "worker.py"])
with agent.task("review"):
    with agent.tool("search"):  # or @swarmscope.tool("search") on a function
        ...
agent.terminate()           # SIGTERM, then SIGKILL after the timeout; records how it ended
swarmscope.shutdown()       # also runs at exit
```

The parts: ``swarmscope.record`` (the recording API: sessions, agents, tasks, tools,
telemetry), ``swarmscope.watch`` (following any program's process tree),
``swarmscope.monitor`` (resource sampling), ``swarmscope.procfs`` (process facts),
``swarmscope.settings`` (every setting) and ``swarmscope.cli`` (the commands).

The public names load lazily, so ``import swarmscope.conventions`` (the analyzer, the CLI's
``--help``) does not pay for the OpenTelemetry SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "ConfigError",
    "Session",
    "Telemetry",
    "Termination",
    "child_env",
    "current_agent",
    "init",
    "instrument",
    "session",
    "shutdown",
    "spawn_agent",
    "task",
    "tool",
]

_LAZY = {
    "init": "swarmscope.record.telemetry",
    "shutdown": "swarmscope.record.telemetry",
    "Telemetry": "swarmscope.record.telemetry",
    "ConfigError": "swarmscope.settings",
    "Agent": "swarmscope.record.agent",
    "Termination": "swarmscope.record.spans",
    "Session": "swarmscope.record.session",
    "spawn_agent": "swarmscope.record.spawn",
    "child_env": "swarmscope.record.spawn",
    "task": "swarmscope.record.tasks",
    "tool": "swarmscope.record.tasks",
    "current_agent": "swarmscope.record.tasks",
    "instrument": "swarmscope.record.instrumentation",
}

if TYPE_CHECKING:
    from swarmscope.record.agent import Agent
    from swarmscope.record.instrumentation import instrument
    from swarmscope.record.session import Session
    from swarmscope.record.spans import Termination
    from swarmscope.record.spawn import child_env, spawn_agent
    from swarmscope.record.tasks import current_agent, task, tool
    from swarmscope.record.telemetry import Telemetry, init, shutdown
    from swarmscope.settings import ConfigError


def session() -> Session:
    """The current session (initialising telemetry with defaults when needed)."""
    from swarmscope.record import telemetry

    return telemetry.get().session


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'swarmscope' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
