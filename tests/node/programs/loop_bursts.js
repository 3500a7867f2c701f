// Blocks its event loop in bursts: a 200 ms busy-wait every 300 ms, for DURATION_MS.
'use strict';
const duration = Number(process.env.DURATION_MS || 2500);
const timer = setInterval(() => {
  const until = Date.now() + 200;
  while (Date.now() < until) {
    // busy: nothing else runs on this loop
  }
}, 300);
setTimeout(() => clearInterval(timer), duration);
