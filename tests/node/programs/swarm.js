// A parent that forks three workers and waits for them: one keeps what it allocates (its V8
// heap grows), the others allocate as much and drop it. Each worker gets its own agent id
// through its environment, as an orchestrator would hand it down.
'use strict';
const { fork } = require('child_process');
const path = require('path');

const modes = ['grow', 'churn', 'churn'];
let running = modes.length;
modes.forEach((mode, i) => {
  const env = Object.assign({}, process.env, { SWARMSCOPE_AGENT_ID: `worker-${i}-${mode}` });
  const child = fork(path.join(__dirname, 'heap_worker.js'), [mode], { env });
  child.on('exit', (code) => {
    console.log(`worker ${i} (${mode}) exited ${code}`);
    running -= 1;
    if (running === 0) console.log('all workers done');
  });
});
