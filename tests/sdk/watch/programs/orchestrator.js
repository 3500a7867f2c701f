'use strict';
// An orchestrator as Claude-Flow is one: Node.js, its worker started with stdio 'pipe' (a Unix
// socketpair, as libuv makes it). Usage: node orchestrator.js HOLD_S FEED_S -- WORKER ARGV...
// Prints the worker's pid, writes a line to its stdin every FEED_S seconds (0: never), closes
// its stdin after HOLD_S seconds (0: at once), then exits with the worker's status.
const { spawn } = require('child_process');

const [hold, feed] = process.argv.slice(2, 4).map(Number);
const argv = process.argv.slice(process.argv.indexOf('--') + 1);
const worker = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'inherit', 'inherit'] });
process.stdout.write(`${worker.pid}\n`);

const feeder = feed > 0 ? setInterval(() => worker.stdin.write('task\n'), feed * 1000) : null;
setTimeout(() => {
  if (feeder) clearInterval(feeder);
  worker.stdin.end();
}, hold * 1000);
worker.on('exit', (code) => { process.exitCode = code === null ? 1 : code; });
