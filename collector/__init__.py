"""The OpenTelemetry Collector distribution and the helpers that build and run it."""
