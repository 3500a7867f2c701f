// Forks two workers for DURATION_MS: `block` busy-waits 200 ms every 450 ms (nothing else runs
// on its event loop meanwhile), `idle` only keeps a timer. Plain Node.
'use strict';
const { fork } = require('child_process');
const duration = Number(process.env.DURATION_MS || 6500);

if (process.argv[2]) console.log(JSON.stringify({ worker: process.argv[2], pid: process.pid }));
if (process.argv[2] === 'block') {
  const timer = setInterval(() => {
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // busy
    }
  }, 450);
  setTimeout(() => clearInterval(timer), duration);
} else if (process.argv[2] === 'idle') {
  setTimeout(() => {}, duration);
} else {
  for (const mode of ['block', 'idle']) {
    fork(__filename, [mode]).on('exit', (code) => console.log(`${mode} exited ${code}`));
  }
}
