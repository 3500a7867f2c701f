// A pool that forks three workers and waits for them: `grow` keeps every batch of objects it
// allocates (its V8 heap climbs by tens of MB), the two `churn` workers allocate the same
// batches and drop them. Plain Node: it knows nothing of swarmscope.
'use strict';
const { fork } = require('child_process');
const path = require('path');

if (process.argv[2] === 'worker') {
  const mode = process.argv[3];
  const duration = Number(process.env.DURATION_MS || 4000);
  const kept = [];
  console.log(JSON.stringify({ worker: mode, pid: process.pid }));
  const timer = setInterval(() => {
    const batch = [];
    for (let i = 0; i < 20000; i++) batch.push({ i, text: `item-${i}-${mode}` });
    if (mode === 'grow') kept.push(batch);
  }, 40);
  setTimeout(() => {
    clearInterval(timer);
    process.exit(0);
  }, duration);
} else {
  const modes = ['grow', 'churn', 'churn'];
  let running = modes.length;
  modes.forEach((mode, i) => {
    const child = fork(path.join(__filename), ['worker', mode]);
    child.on('exit', (code) => {
      console.log(`worker ${i} (${mode}) exited ${code}`);
      running -= 1;
      if (running === 0) console.log('all workers done');
    });
  });
}
