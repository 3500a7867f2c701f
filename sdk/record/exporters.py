"""Exporters for one process: the embedded OTLP JSON Lines files or OTLP to a Collector, each
wrapped so that telemetry that cannot be delivered is reported on the ``swarmscope`` logger
(stderr) instead of vanishing, and so that a forked child can switch to its own files without
touching the parent's.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from swarmscope import conventions as c
from swarmscope.settings import ConfigError, Settings

logger = logging.getLogger("swarmscope")


class _Loss:
    """Counts what one exporter failed to deliver; warns once when it starts, sums up at the end."""

    def __init__(self, signal: str, destination: str) -> None:
        self.signal = signal
        self.destination = destination
        self.items = 0
        self.batches = 0

    def add(self, items: int) -> None:
        self.batches += 1
        self.items += items
        if self.batches == 1:
            logger.warning(
                "could not export %d %s to %s; telemetry is being lost "
                "(a summary follows at shutdown)",
                items,
                self.signal,
                self.destination,
            )

    def summary(self) -> str | None:
        if not self.batches:
            return None
        return (
            f"lost {self.items} {self.signal} in {self.batches} failed export(s) "
            f"to {self.destination}"
        )


class ReportingSpanExporter(SpanExporter):
    """Delegates to an exporter that can be replaced (fork) and counts spans it failed to send."""

    def __init__(self, inner: SpanExporter, destination: str) -> None:
        self.inner = inner
        self.loss = _Loss("spans", destination)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as error:  # an exporter must never take the program down
            logger.debug("span export raised %r", error)
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.loss.add(len(spans))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _count_points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )


class ReportingMetricExporter(MetricExporter):
    """The metric twin of :class:`ReportingSpanExporter`."""

    def __init__(self, inner: MetricExporter, destination: str) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self.loss = _Loss("metric points", destination)
        self.closed = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if self.closed:  # a reader revived by fork after shutdown: nothing to report
            return MetricExportResult.FAILURE
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as error:
            logger.debug("metric export raised %r", error)
            result = MetricExportResult.FAILURE
        if result is not MetricExportResult.SUCCESS:
            self.loss.add(_count_points(metrics_data))
        return result

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.closed = True
        self.inner.shutdown(timeout_millis=timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def sdk_file(data_dir: Path, signal: str, start_ns: int) -> Path:
    """``<data_dir>/sdk/<signal>.<host>.<pid>.<start_ns>.jsonl``: one file per process, signal."""
    return data_dir / "sdk" / f"{signal}.{socket.gethostname()}.{os.getpid()}.{start_ns}.jsonl"


def file_exporters(settings: Settings, start_ns: int) -> tuple[Any, Any, dict[str, Path]]:
    from swarmscope.record.rotation import (
        RotatingFile,
        RotatingMetricExporter,
        RotatingSpanExporter,
    )
    from swarmscope.settings import archive_rotated, rotation_limits

    files = {
        c.SIGNAL_TRACES: sdk_file(settings.data_dir, c.SIGNAL_TRACES, start_ns),
        c.SIGNAL_METRICS: sdk_file(settings.data_dir, c.SIGNAL_METRICS, start_ns),
    }
    # files are rotated, and the closed ones archived, so that a long session's disk is bounded
    limits = (*rotation_limits(), archive_rotated())
    try:
        spans = RotatingSpanExporter(RotatingFile(files[c.SIGNAL_TRACES], *limits))
        metrics = RotatingMetricExporter(RotatingFile(files[c.SIGNAL_METRICS], *limits))
    except OSError as error:
        raise ConfigError(f"data_dir ({c.ENV_DATA_DIR})", f"cannot open file: {error}") from None
    return spans, metrics, files


def otlp_exporters(settings: Settings) -> tuple[Any, Any]:
    timeout = settings.export_timeout
    if settings.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        spans = OTLPSpanExporter(endpoint=settings.endpoint, timeout=timeout)
        metrics = OTLPMetricExporter(endpoint=settings.endpoint, timeout=timeout)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = settings.endpoint.rstrip("/") if settings.endpoint else None
        spans = OTLPSpanExporter(endpoint=base and f"{base}/v1/traces", timeout=timeout)
        metrics = OTLPMetricExporter(endpoint=base and f"{base}/v1/metrics", timeout=timeout)
    return spans, metrics


def destination(exporter: Any, settings: Settings) -> str:
    return f"{getattr(exporter, '_endpoint', settings.endpoint)} (OTLP {settings.protocol})"


