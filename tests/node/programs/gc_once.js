// Allocates, forces a garbage collection (run with --expose-gc) and keeps a timer alive for
// DURATION_MS, so every runtime metric has something to report.
'use strict';
setTimeout(() => {
  let junk = Array.from({ length: 50000 }, (_, i) => ({ i }));
  junk = null;
  global.gc();
}, 50);
setTimeout(() => {}, Number(process.env.DURATION_MS || 600));
