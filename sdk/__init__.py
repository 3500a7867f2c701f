"""swarmscope: OpenTelemetry for AI agent swarms.

```python
import swarmscope

swarmscope.init(topology="mesh", strategy="balanced", max_agents=5)
agent = swarmscope.spawn_agent("coder", ["python", "worker.py"])
with agent.task("review"):
    ...
agent.terminate()           # SIGTERM, then SIGKILL after the timeout; records how it ended
swarmscope.shutdown()       # also runs at exit
```

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
]

_LAZY = {
    "init": "swarmscope.telemetry",
    "shutdown": "swarmscope.telemetry",
    "Telemetry": "swarmscope.telemetry",
    "ConfigError": "swarmscope.settings",
    "Agent": "swarmscope.lifecycle",
    "Session": "swarmscope.lifecycle",
    "Termination": "swarmscope.lifecycle",
    "spawn_agent": "swarmscope.lifecycle",
    "task": "swarmscope.lifecycle",
    "current_agent": "swarmscope.lifecycle",
    "child_env": "swarmscope.lifecycle",
    "instrument": "swarmscope.instrumentation",
}

if TYPE_CHECKING:
    from swarmscope.instrumentation import instrument
    from swarmscope.lifecycle import (
        Agent,
        Session,
        Termination,
        child_env,
        current_agent,
        spawn_agent,
        task,
    )
    from swarmscope.settings import ConfigError
    from swarmscope.telemetry import Telemetry, init, shutdown


def session() -> Session:
    """The current session (initialising telemetry with defaults when needed)."""
    from swarmscope import telemetry

    return telemetry.get().session


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'swarmscope' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
