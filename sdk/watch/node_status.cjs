'use strict';
/*
 * The live status of a Node.js process running swarmscope's preload (node_preload.cjs), for
 * the watcher's hung-worker rule (sdk/watch/node_status.py reads it; docs/node.md, "The live
 * status").
 *
 * Why: the preload's own timers (the event-loop-delay monitor, the export interval) are
 * unref'd, yet they put a timeout on every epoll wait and wake the process, so from outside a
 * Node process with the preload never looks idle. The preload is the authority on its own
 * timers: it says what else keeps the loop alive. process.getActiveResourcesInfo() lists
 * only ref'd resources (the preload's are absent; a program's setInterval shows as
 * 'Timeout', an HTTP request as 'TCPSocketWrap', stdin as 'PipeWrap'), and the stream
 * handles say how many bytes each fd has read (rchar cannot tell the program's reads from
 * libuv's own 8-byte eventfd reads).
 *
 * Written at every export, atomically (a temporary file, then rename), to
 * <data dir>/watch/node/<pid>.status: a suffix and a folder the analyzer's ingest never reads
 * as telemetry. Removed when the recording stops (exit, a signal, a failed write). A status
 * that cannot be written is given up silently: the watcher then simply judges no Node process
 * through it, and the one stderr line stays for the metrics themselves.
 *
 * Loaded by the preload on the first loop turn, off the start path; same syntax rules.
 */

var fs = require('fs');
var path = require('path');

var FORMAT = 1; // bump when a field changes meaning

function Status(dir, intervalS, startNs) {
  this.file = path.join(dir, 'watch', 'node', process.pid + '.status');
  this.temporary = this.file + '.tmp';
  this.intervalS = intervalS;
  this.startNs = startNs;
  this.ready = false;
  this.broken = typeof process.getActiveResourcesInfo !== 'function';
  this.lastElu = null;
}

/** Rewrite the status; `perf` is perf_hooks (null before the monitors began). */
Status.prototype.write = function (perf) {
  if (this.broken || !perf) return;
  try {
    if (!this.ready) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.ready = true;
    }
    fs.writeFileSync(this.temporary, JSON.stringify(this.describe(perf)));
    fs.renameSync(this.temporary, this.file);
  } catch (e) {
    this.broken = true; // read-only or impossible data directory: no status, no noise
    this.remove();
  }
};

Status.prototype.describe = function (perf) {
  var elu = perf.performance.eventLoopUtilization;
  var current = elu();
  var utilization = this.lastElu ? elu(current, this.lastElu).utilization : null;
  this.lastElu = current;
  return {
    format: FORMAT,
    pid: process.pid,
    start_ns: this.startNs,
    time: Date.now() / 1000,
    interval_s: this.intervalS,
    resources: process.getActiveResourcesInfo(),
    elu: utilization,
    bytes_read: bytesReadByFd(),
  };
};

/**
 * fd -> bytes read, for every active stream handle that has an fd (stdin among them once the
 * program reads it). process._getActiveHandles is internal but present from Node 0.x to 22;
 * without it the map is empty and the watcher judges no input as unknown (no verdict).
 * process.stdin itself is never touched: its getter would open stdin in the program.
 */
function bytesReadByFd() {
  var found = {};
  if (typeof process._getActiveHandles !== 'function') return null;
  process._getActiveHandles().forEach(function (owner) {
    var handle = owner && owner._handle;
    var fd = handle && handle.fd;
    if (typeof fd === 'number' && fd >= 0 && typeof owner.bytesRead === 'number') {
      found[fd] = owner.bytesRead;
    }
  });
  return found;
}

Status.prototype.remove = function () {
  try {
    fs.unlinkSync(this.file);
  } catch (e) {
    // never written, or already gone
  }
};

module.exports = Status;
