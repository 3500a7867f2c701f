'use strict';
// Node.js workers that wait politely while their stdin stays open; each reads stdin to its end.
// Usage: node worker.js http URL   - waits for an HTTP answer (a socket in its event loop)
//        node worker.js poll MS    - polls a timer every MS ms (a timeout on its event loop)
//        node worker.js lines      - handles each line fed on stdin (it reads bytes)
const http = require('http');

const [mode, arg] = process.argv.slice(2);
let stdinOpen = true;
let pending = mode === 'http';
const finish = () => { if (!stdinOpen && !pending) process.stdout.write('worker done\n'); };

process.stdin.on('data', () => {});
process.stdin.on('end', () => { stdinOpen = false; finish(); });

if (mode === 'http') {
  http.get(arg, (res) => {
    res.resume();
    res.on('end', () => { pending = false; finish(); });
  });
} else if (mode === 'poll') {
  const timer = setInterval(() => { if (!stdinOpen) clearInterval(timer); }, Number(arg));
}
