// Runs the official @opentelemetry/instrumentation-runtime-node with @opentelemetry/sdk-metrics
// and prints, as one JSON line, what it emits: each metric's name, unit, point kind, attribute
// keys and (for histograms) bucket boundaries. Run with NODE_PATH pointing at the npm cache
// dir's node_modules and --expose-gc, so a GC entry is certain to be observed.
'use strict';
const { MeterProvider, MetricReader, DataPointType } = require('@opentelemetry/sdk-metrics');
const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');

class CollectOnly extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const KINDS = {
  [DataPointType.GAUGE]: 'gauge',
  [DataPointType.SUM]: 'sum',
  [DataPointType.HISTOGRAM]: 'histogram',
  [DataPointType.EXPONENTIAL_HISTOGRAM]: 'exponentialHistogram',
};

function describe(metric) {
  const keys = new Set();
  for (const point of metric.dataPoints) Object.keys(point.attributes).forEach((k) => keys.add(k));
  const first = metric.dataPoints[0];
  return {
    name: metric.descriptor.name,
    unit: metric.descriptor.unit,
    kind: KINDS[metric.dataPointType],
    monotonic: metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : null,
    attributes: [...keys].sort(),
    boundaries: metric.dataPointType === DataPointType.HISTOGRAM ? first.value.buckets.boundaries : null,
  };
}

async function main() {
  const reader = new CollectOnly();
  const provider = new MeterProvider({ readers: [reader] });
  const instrumentation = new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
  instrumentation.setMeterProvider(provider);
  instrumentation.enable();
  // Event-loop delay is reported once its histogram holds 5 samples (10 ms resolution).
  await new Promise((resolve) => setTimeout(resolve, 150));
  global.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // v8js.resource.active only has points while something keeps the loop alive.
  const keepAlive = setInterval(() => {}, 1000);
  const { resourceMetrics } = await reader.collect();
  clearInterval(keepAlive);
  const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map(describe);
  found.sort((a, b) => a.name.localeCompare(b.name));
  process.stdout.write(JSON.stringify({ node: process.version, metrics: found }) + '\n');
  await provider.shutdown();
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack) + '\n');
  process.exit(1);
});
