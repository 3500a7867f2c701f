// Reads its stdin to the end, as `claude --print` does; with "timer", also keeps a timer of
// its own. Prints "stdin closed" at the end of its input.
'use strict';
const timer = process.argv[2] === 'timer' ? setInterval(() => {}, 60000) : null;
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  clearInterval(timer);
  process.stdout.write('stdin closed\n');
});
