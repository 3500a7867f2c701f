"""swarmscope: OpenTelemetry for AI agent swarms."""

__version__ = "0.1.0"
