'use strict';
/*
 * swarmscope's Node.js preload: records this process's own V8 heap, garbage collection and
 * event-loop metrics, under the names @opentelemetry/instrumentation-runtime-node emits, with
 * no npm dependency. Loaded with `node --require <abs path>` or NODE_OPTIONS="--require <abs
 * path>" (appended to any NODE_OPTIONS the program already has). docs/node.md describes it.
 *
 * Rules this file keeps, because it runs inside programs that are not ours:
 * - nothing on stdout, ever; at most one line on stderr (prefixed "swarmscope:");
 * - nothing thrown into the program: every entry point is wrapped in try/catch;
 * - timers and sockets are unref()ed: the preload never keeps a program alive;
 * - exit codes and signal deaths stay what they were without the preload;
 * - syntax old Node versions can parse (no ?., ??, class fields, BigInt literals), so that an
 *   unsupported Node skips the preload instead of failing on a SyntaxError.
 *
 * Run as a script (`node node_preload.cjs --send <url>`), it is the helper that delivers the
 * last OTLP/HTTP export synchronously when the process is exiting (see flushSync).
 */

var VERSION = '0.1.0';
// The newest APIs used: RecordableHistogram.count (16.14), gc entry.detail and takeRecords (16).
var MIN_NODE = [16, 14];
var GUARD = typeof Symbol === 'function' ? Symbol.for('swarmscope.node_preload') : '__swarmscope_node_preload';
var SCOPE = 'swarmscope';
var SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
var DEFAULT_TIMEOUT_S = 3; // as the Python sdk: an unreachable endpoint must not hold the program
var LOOP_DELAY_RESOLUTION_MS = 10; // the official instrumentation's default monitoringPrecision
var MIN_LOOP_DELAY_SAMPLES = 5; // the official reports delay only once its histogram has 5
// The official instrumentation's v8js.gc.duration bucket boundaries, in seconds.
var GC_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

// Metric and attribute names (sdk/conventions.py, "Node.js runtime (written by the preload)").
var M = {
  HEAP_USED: 'v8js.memory.heap.used',
  HEAP_LIMIT: 'v8js.memory.heap.limit',
  HEAP_SPACE_SIZE: 'v8js.memory.heap.space.size',
  HEAP_SPACE_AVAILABLE: 'v8js.memory.heap.space.available_size',
  HEAP_SPACE_PHYSICAL: 'v8js.memory.heap.space.physical_size',
  GC_DURATION: 'v8js.gc.duration',
  RESOURCE_ACTIVE: 'v8js.resource.active',
  LOOP_DELAY: 'nodejs.eventloop.delay.',
  LOOP_UTILIZATION: 'nodejs.eventloop.utilization',
  LOOP_TIME: 'nodejs.eventloop.time',
};
var A = {
  HEAP_SPACE: 'v8js.heap.space.name',
  GC_TYPE: 'v8js.gc.type',
  RESOURCE_TYPE: 'v8js.resource.type',
  LOOP_STATE: 'nodejs.eventloop.state',
  PID: 'process.pid',
  AGENT_ID: 'swarm.agent.id',
};

var fs = require('fs');
var path = require('path');

// --- small utilities --------------------------------------------------------------------------

var warned = false;

/** One line on stderr for the life of the process, written synchronously (works in 'exit'). */
function warn(message) {
  if (warned) return;
  warned = true;
  try {
    fs.writeSync(2, 'swarmscope: ' + message + '\n');
  } catch (e) {
    // stderr closed: stay silent
  }
}

function env(name) {
  var value = process.env[name];
  return value === undefined || value === '' ? null : value;
}

/**
 * Node replaces process.abort in worker threads (it is unavailable there). Its name answers for
 * free; require('worker_threads') would load the stream modules (~3 ms) into every process, so
 * it is asked only when a Node version names the function otherwise.
 */
function isWorkerThread() {
  var name = process.abort && process.abort.name;
  if (name === 'abort') return false;
  if (name === 'unavailableInWorker') return true;
  return !require('worker_threads').isMainThread;
}

function nodeSupported() {
  var parts = String(process.versions && process.versions.node).split('.').map(Number);
  if (parts[0] !== MIN_NODE[0]) return parts[0] > MIN_NODE[0];
  return parts[1] >= MIN_NODE[1];
}

function seconds(name, fallback) {
  var value = parseFloat(env(name));
  return value > 0 ? value : fallback;
}

// --- configuration from the environment -------------------------------------------------------

/** Where to send: {kind: 'file', dir} or {kind: 'http', url, headers, timeoutMs}, or null. */
function destination() {
  var chosen = (env('SWARMSCOPE_EXPORTER') || '').toLowerCase();
  var endpoint = env('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  var base = env('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (chosen === 'none') return null;
  if (chosen && chosen !== 'file' && chosen !== 'otlp') {
    warn('unknown SWARMSCOPE_EXPORTER ' + JSON.stringify(chosen) + '; Node.js runtime metrics are off');
    return null;
  }
  var dir = path.resolve(env('SWARMSCOPE_DATA_DIR') || 'swarmscope-data');
  var otlp = chosen === 'otlp' || (!chosen && (endpoint || base || env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')));
  if (!otlp) return { kind: 'file', dir: dir };
  // The Python sdk's default protocol is grpc; Node has no dependency-free gRPC client, so the
  // preload then writes the embedded file instead (docs/node.md, "OTLP").
  var protocol = (env('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') || env('OTEL_EXPORTER_OTLP_PROTOCOL') || 'grpc').toLowerCase();
  if (protocol.indexOf('http/') !== 0) return { kind: 'file', dir: dir };
  var url = endpoint || (base || 'http://localhost:4318').replace(/\/+$/, '') + '/v1/metrics';
  return {
    kind: 'http',
    dir: dir, // the live status (node_status.cjs) is a file whatever the exporter
    url: url,
    headers: otlpHeaders(),
    timeoutMs: 1000 * seconds('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', seconds('OTEL_EXPORTER_OTLP_TIMEOUT', DEFAULT_TIMEOUT_S)),
  };
}

/** OTEL_EXPORTER_OTLP_HEADERS (and the _METRICS_ variant): "k=v,k2=v2", values URL-encoded. */
function otlpHeaders() {
  var headers = {};
  [env('OTEL_EXPORTER_OTLP_HEADERS'), env('OTEL_EXPORTER_OTLP_METRICS_HEADERS')].forEach(function (list) {
    keyValues(list).forEach(function (kv) { headers[kv[0]] = kv[1]; });
  });
  return headers;
}

function keyValues(list) {
  if (!list) return [];
  return list.split(',').map(function (item) {
    var at = item.indexOf('=');
    if (at <= 0) return null;
    try {
      return [decodeURIComponent(item.slice(0, at).trim()), decodeURIComponent(item.slice(at + 1).trim())];
    } catch (e) {
      return null;
    }
  }).filter(Boolean);
}

// --- OTLP JSON encoding -----------------------------------------------------------------------

function anyValue(value) {
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  return { stringValue: String(value) };
}

function attributeList(object) {
  return Object.keys(object).map(function (key) { return { key: key, value: anyValue(object[key]) }; });
}

function point(attrs, time, start) {
  var p = { attributes: attributeList(attrs), timeUnixNano: time };
  if (start) p.startTimeUnixNano = start;
  return p;
}

/** An integer point: asInt is a string, as OTLP JSON encodes 64-bit integers. */
function intPoint(value, attrs, time, start) {
  var p = point(attrs, time, start);
  p.asInt = String(Math.round(value));
  return p;
}

function doublePoint(value, attrs, time, start) {
  var p = point(attrs, time, start);
  p.asDouble = value;
  return p;
}

function gauge(name, unit, description, points) {
  return { name: name, unit: unit, description: description, gauge: { dataPoints: points } };
}

function sum(name, unit, description, monotonic, points) {
  return {
    name: name, unit: unit, description: description,
    sum: { dataPoints: points, aggregationTemporality: 2, isMonotonic: monotonic },
  };
}

// --- the recorder -----------------------------------------------------------------------------

/**
 * Construction only notes the start: requiring v8 and perf_hooks and starting the monitors
 * costs ~3 ms, so begin() does it off the start path, on the first loop turn.
 */
function Recorder(target) {
  this.target = target;
  this.startHr = process.hrtime.bigint();
  this.startNs = (BigInt(Date.now()) * BigInt(1000000)).toString();
  this.pointAttrs = basePointAttributes();
  this.gc = {}; // v8js.gc.type -> cumulative histogram
  this.knownResources = {};
  this.resource = null; // built at the first export
  this.fd = null;
  this.stopped = false;
  this.delay = null;
  this.observer = null;
  this.status = null; // the live status for the watcher, once the monitors began
  this.intervalS = null;
}

/**
 * Load the modules; with `monitors`, also start the delay histogram and the GC observer. A
 * process exiting before its first loop turn only needs v8 for its one export (heap only).
 */
Recorder.prototype.begin = function (monitors) {
  if (!this.v8) this.v8 = require('v8');
  if (monitors && !this.perf && !this.stopped) {
    this.perf = require('perf_hooks');
    this.gcKinds = gcKinds(this.perf.constants);
    this.lastElu = this.perf.performance.eventLoopUtilization();
    this.delay = this.perf.monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    this.delay.enable();
    this.observer = this.observeGc();
    this.status = liveStatus(this.target.dir, this.intervalS, this.startNs);
  }
  return !this.stopped;
};

/** The live status writer (node_status.cjs, next to this file); null when it cannot load. */
function liveStatus(dir, intervalS, startNs) {
  try {
    var Status = require(path.join(__dirname, 'node_status.cjs'));
    return new Status(dir, intervalS, startNs);
  } catch (e) {
    return null; // a copy of this file without its sibling: metrics without the status
  }
}

function basePointAttributes() {
  var attrs = {};
  attrs[A.PID] = process.pid;
  var agent = env('SWARMSCOPE_AGENT_ID');
  if (agent) attrs[A.AGENT_ID] = agent;
  return attrs;
}

function gcKinds(constants) {
  var kinds = {};
  kinds[constants.NODE_PERFORMANCE_GC_MAJOR] = 'major';
  kinds[constants.NODE_PERFORMANCE_GC_MINOR] = 'minor';
  kinds[constants.NODE_PERFORMANCE_GC_INCREMENTAL] = 'incremental';
  kinds[constants.NODE_PERFORMANCE_GC_WEAKCB] = 'weakcb';
  return kinds;
}

Recorder.prototype.nowNs = function () {
  return (BigInt(this.startNs) + (process.hrtime.bigint() - this.startHr)).toString();
};

Recorder.prototype.observeGc = function () {
  var self = this;
  var observer = new this.perf.PerformanceObserver(function (list) {
    try {
      self.recordGc(list.getEntries());
    } catch (e) {
      // a malformed entry must not reach the program
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
};

Recorder.prototype.recordGc = function (entries) {
  for (var i = 0; i < entries.length; i++) {
    var entry = entries[i];
    var kind = this.gcKinds[entry.detail ? entry.detail.kind : entry.kind];
    if (kind) addToHistogram(this.gc, kind, entry.duration / 1e3);
  }
};

function addToHistogram(histograms, kind, value) {
  var h = histograms[kind];
  if (!h) {
    h = histograms[kind] = { count: 0, sum: 0, min: value, max: value, buckets: GC_BOUNDS.map(function () { return 0; }).concat([0]) };
  }
  var bucket = 0;
  while (bucket < GC_BOUNDS.length && value > GC_BOUNDS[bucket]) bucket++;
  h.buckets[bucket]++;
  h.count++;
  h.sum += value;
  if (value < h.min) h.min = value;
  if (value > h.max) h.max = value;
}

/** Every metric of one export; `final` when the process is exiting. */
Recorder.prototype.collect = function (final) {
  var observer = this.observer;
  if (final && observer && typeof observer.takeRecords === 'function') this.recordGc(observer.takeRecords());
  var time = this.nowNs();
  return this.heapMetrics(time)
    .concat(this.gcMetric(time))
    .concat(this.loopDelayMetrics(time))
    .concat(this.loopMetrics(time))
    .concat(this.resourceMetric(time));
};

Recorder.prototype.attrs = function (extra) {
  return Object.assign({}, extra, this.pointAttrs);
};

Recorder.prototype.heapMetrics = function (time) {
  var self = this;
  var used = [], size = [], available = [], physical = [];
  this.v8.getHeapSpaceStatistics().forEach(function (space) {
    var attrs = {};
    attrs[A.HEAP_SPACE] = space.space_name;
    attrs = self.attrs(attrs);
    used.push(intPoint(space.space_used_size, attrs, time));
    size.push(intPoint(space.space_size, attrs, time, self.startNs));
    available.push(intPoint(space.space_available_size, attrs, time));
    physical.push(intPoint(space.physical_space_size, attrs, time));
  });
  var limit = this.v8.getHeapStatistics().heap_size_limit;
  return [
    gauge(M.HEAP_USED, 'By', 'Heap Memory size allocated.', used),
    sum(M.HEAP_SPACE_SIZE, 'By', 'Total heap memory size pre-allocated for a heap space.', false, size),
    gauge(M.HEAP_SPACE_AVAILABLE, 'By', 'Heap space available size.', available),
    gauge(M.HEAP_SPACE_PHYSICAL, 'By', 'Committed size of a heap space.', physical),
    sum(M.HEAP_LIMIT, 'By', 'Maximum size the V8 heap can grow to (heap_size_limit).', false,
      [intPoint(limit, this.attrs({}), time, this.startNs)]),
  ];
};

Recorder.prototype.gcMetric = function (time) {
  var self = this;
  var kinds = Object.keys(this.gc);
  if (!kinds.length) return [];
  var points = kinds.map(function (kind) {
    var h = self.gc[kind];
    var attrs = {};
    attrs[A.GC_TYPE] = kind;
    return {
      attributes: attributeList(self.attrs(attrs)),
      startTimeUnixNano: self.startNs,
      timeUnixNano: time,
      count: String(h.count),
      sum: h.sum,
      bucketCounts: h.buckets.map(String),
      explicitBounds: GC_BOUNDS,
      min: h.min,
      max: h.max,
    };
  });
  return [{
    name: M.GC_DURATION, unit: 's',
    description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    histogram: { dataPoints: points, aggregationTemporality: 2 },
  }];
};

/** Event-loop delay since the previous export, in seconds, as the official reports it. */
Recorder.prototype.loopDelayMetrics = function (time) {
  var h = this.delay;
  if (!h || h.count < MIN_LOOP_DELAY_SAMPLES) return [];
  var self = this;
  var figures = [
    ['min', h.min, 'minimum'], ['max', h.max, 'maximum'], ['mean', h.mean, 'mean'],
    ['stddev', h.stddev, 'standard deviation'], ['p50', h.percentile(50), '50 percentile'],
    ['p90', h.percentile(90), '90 percentile'], ['p99', h.percentile(99), '99 percentile'],
  ];
  h.reset();
  return figures.map(function (f) {
    var value = isNaN(f[1]) ? 0 : f[1] / 1e9;
    return gauge(M.LOOP_DELAY + f[0], 's', 'Event loop ' + f[2] + ' delay.', [doublePoint(value, self.attrs({}), time)]);
  });
};

Recorder.prototype.loopMetrics = function (time) {
  if (!this.perf) return [];
  var elu = this.perf.performance.eventLoopUtilization;
  var current = elu();
  var delta = elu(current, this.lastElu);
  this.lastElu = current;
  var active = {}, idle = {};
  active[A.LOOP_STATE] = 'active';
  idle[A.LOOP_STATE] = 'idle';
  return [
    gauge(M.LOOP_UTILIZATION, '1', 'Event loop utilization', [doublePoint(delta.utilization, this.attrs({}), time)]),
    sum(M.LOOP_TIME, 's', 'Cumulative duration of time the event loop has been in each state.', true, [
      doublePoint(current.active / 1e3, this.attrs(active), time, this.startNs),
      doublePoint(current.idle / 1e3, this.attrs(idle), time, this.startNs),
    ]),
  ];
};

/** What keeps the event loop alive, by type; a type once seen keeps reporting (0 when gone). */
Recorder.prototype.resourceMetric = function (time) {
  if (typeof process.getActiveResourcesInfo !== 'function') return [];
  var counts = {};
  var known = this.knownResources;
  process.getActiveResourcesInfo().forEach(function (type) {
    counts[type] = (counts[type] || 0) + 1;
    known[type] = true;
  });
  var self = this;
  var points = Object.keys(known).map(function (type) {
    var attrs = {};
    attrs[A.RESOURCE_TYPE] = type;
    return intPoint(counts[type] || 0, self.attrs(attrs), time);
  });
  if (!points.length) return [];
  return [gauge(M.RESOURCE_ACTIVE, '{resource}', 'Count of the active resources that are currently keeping the event loop alive.', points)];
};

// --- the document and where it goes -----------------------------------------------------------

Recorder.prototype.document = function (metrics) {
  if (!this.resource) this.resource = { attributes: attributeList(resourceAttributes()) };
  return JSON.stringify({
    resourceMetrics: [{
      resource: this.resource,
      scopeMetrics: [{ scope: { name: SCOPE, version: VERSION }, metrics: metrics }],
    }],
  });
};

function resourceAttributes() {
  var attrs = {};
  keyValues(env('OTEL_RESOURCE_ATTRIBUTES')).forEach(function (kv) { attrs[kv[0]] = kv[1]; });
  attrs['service.name'] = env('OTEL_SERVICE_NAME') || scriptName();
  var session = env('SWARMSCOPE_SESSION_ID');
  if (session) attrs['session.id'] = session;
  attrs['process.pid'] = process.pid;
  attrs['process.parent_pid'] = process.ppid;
  attrs['process.runtime.name'] = 'nodejs';
  attrs['process.runtime.version'] = process.versions.node;
  attrs['host.name'] = hostname();
  attrs['os.type'] = process.platform;
  return attrs;
}

var host = null;

/** gethostname(), as Python's socket.gethostname(); /proc spares loading the os module. */
function hostname() {
  if (host === null) {
    try {
      host = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
    } catch (e) {
      host = '';
    }
    if (!host) host = require('os').hostname();
  }
  return host;
}

function scriptName() {
  var script = process.argv[1];
  return script ? path.basename(script) : path.basename(process.execPath);
}

/** <dir>/sdk/metrics.<host>.<pid>.<start_ns>.jsonl: the Python sdk's sdk_file naming. */
Recorder.prototype.filePath = function () {
  return path.join(this.target.dir, 'sdk', 'metrics.' + hostname() + '.' + process.pid + '.' + this.startNs + '.jsonl');
};

Recorder.prototype.writeLine = function (line) {
  var file = this.filePath();
  try {
    if (this.fd === null) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(file, 'a');
    }
    fs.writeSync(this.fd, line + '\n');
  } catch (error) {
    warn('cannot write Node.js runtime metrics to ' + file + ' (' + (error.code || error.message) + '); recording stops');
    this.stop();
  }
};

Recorder.prototype.post = function (body) {
  var target = this.target;
  postJson(target, body, function (error) {
    if (error) warn('cannot send Node.js runtime metrics to ' + target.url + ' (' + error.message + '); metrics are being lost');
  });
};

function postJson(target, body, done) {
  var url = new URL(target.url);
  var client = require(url.protocol === 'https:' ? 'https' : 'http');
  var headers = Object.assign({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, target.headers);
  var finished = false;
  function finish(error) {
    if (finished) return;
    finished = true;
    done(error || null);
  }
  var request = client.request(url, { method: 'POST', headers: headers, agent: false, timeout: target.timeoutMs });
  request.on('socket', function (socket) { socket.unref(); }); // an export never holds the program
  request.on('timeout', function () { request.destroy(new Error('timed out')); });
  request.on('error', finish);
  request.on('response', function (response) {
    response.resume();
    response.on('end', function () {
      finish(response.statusCode < 300 ? null : new Error('HTTP ' + response.statusCode));
    });
  });
  request.end(body);
}

Recorder.prototype.exportNow = function (final) {
  if (this.stopped || !this.begin(false)) return;
  var line = this.document(this.collect(final));
  if (this.target.kind === 'file') this.writeLine(line);
  else if (final) this.sendSync(line);
  else this.post(line);
  if (!final && this.status && !this.stopped) this.status.write(this.perf);
};

/**
 * The last export of an exiting process: 'exit' handlers cannot wait for a socket, so a short
 * helper process (this file run as a script) posts it while we block, within the timeout.
 */
Recorder.prototype.sendSync = function (line) {
  var childEnv = Object.assign({}, process.env, { NODE_OPTIONS: '', SWARMSCOPE_EXPORTER: 'none' });
  // The target (headers may hold credentials) goes through stdin, not the world-readable argv.
  var result = require('child_process').spawnSync(process.execPath, [__filename, '--send'], {
    input: JSON.stringify(this.target) + '\n' + line,
    env: childEnv, stdio: ['pipe', 'ignore', 'ignore'], timeout: this.target.timeoutMs + 1000,
  });
  if (result.error || result.status !== 0) warn('cannot send Node.js runtime metrics to ' + this.target.url + ' at exit');
};

Recorder.prototype.stop = function () {
  this.stopped = true;
  try {
    if (this.timer) clearInterval(this.timer);
    if (this.observer) this.observer.disconnect();
    if (this.delay) this.delay.disable();
    if (this.status) this.status.remove(); // no timers of ours any more: nothing to explain
  } catch (e) {
    // already torn down
  }
};

// --- process hooks ----------------------------------------------------------------------------

Recorder.prototype.start = function (intervalS) {
  var self = this;
  // Node warns on stderr and fires every 1 ms past 2^31 ms: keep within [50 ms, 1 h].
  var ms = Math.min(3600 * 1000, Math.max(50, intervalS * 1000));
  this.intervalS = ms / 1000;
  // The monitors begin on the first loop turn (a process that never gets there exports once,
  // at exit); then one export per interval. One timer at a time: timers cost at start too.
  this.timer = setTimeout(function () {
    self.safely(null);
    if (self.stopped) return;
    self.timer = setInterval(function () { self.safely(false); }, ms);
    self.timer.unref();
  }, 0);
  this.timer.unref();
  process.on('exit', function () { self.safely(true); self.stop(); });
  SIGNALS.forEach(function (signal) { self.onSignal(signal); });
};

/** final: true at exit, false on a tick, null to only begin the monitors. */
Recorder.prototype.safely = function (final) {
  try {
    if (final === null) this.begin(true);
    else this.exportNow(final);
  } catch (error) {
    warn('Node.js runtime metrics failed (' + (error && error.message) + '); recording stops');
    this.stop();
  }
};

/**
 * Flush on a signal. When the program has no handler of its own, Node's default would have
 * ended it: remove ours and raise the signal again so it still dies by that signal.
 */
Recorder.prototype.onSignal = function (signal) {
  var self = this;
  function handler() {
    self.safely(true);
    if (process.listenerCount(signal) > 1) return; // the program handles it: its choice
    self.stop();
    SIGNALS.forEach(function (s) { process.removeListener(s, self.handlers[s]); });
    process.kill(process.pid, signal);
  }
  this.handlers = this.handlers || {};
  this.handlers[signal] = handler;
  process.on(signal, handler);
};

// --- entry points -----------------------------------------------------------------------------

function preload() {
  if (global[GUARD]) return; // required twice (two --require, or a copy of this file)
  global[GUARD] = VERSION;
  if (!nodeSupported()) return;
  if (isWorkerThread()) return; // workers run NODE_OPTIONS preloads too; only the main thread records
  var target = destination();
  if (!target) return;
  new Recorder(target).start(seconds('SWARMSCOPE_SAMPLE_INTERVAL', 1));
}

/** `node node_preload.cjs --send`, stdin = target JSON line + body: exit 0 on a 2xx answer. */
function sendFromStdin() {
  var chunks = [];
  process.stdin.on('data', function (chunk) { chunks.push(chunk); });
  process.stdin.on('end', function () {
    var input = Buffer.concat(chunks).toString('utf8');
    var newline = input.indexOf('\n');
    var target = JSON.parse(input.slice(0, newline));
    postJson(target, input.slice(newline + 1), function (error) {
      process.exitCode = error ? 1 : 0;
    });
  });
}

if (require.main === module && process.argv[2] === '--send') {
  sendFromStdin();
} else {
  try {
    preload();
  } catch (error) {
    warn('Node.js runtime metrics are off (' + (error && error.message) + ')');
  }
}
