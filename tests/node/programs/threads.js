// Runs two worker threads that allocate for a while; the process is one process.
'use strict';
const { Worker } = require('worker_threads');
const code = `
  const { parentPort } = require('worker_threads');
  let junk = [];
  const t = setInterval(() => { junk = Array.from({ length: 10000 }, (_, i) => ({ i })); }, 20);
  setTimeout(() => { clearInterval(t); parentPort.postMessage('done'); }, 600);
`;
for (let i = 0; i < 2; i++) {
  new Worker(code, { eval: true }).on('message', (m) => console.log(`thread ${i} ${m}`));
}
