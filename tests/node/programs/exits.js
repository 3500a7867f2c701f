// Writes some stdout, then ends the way argv[2] says: ok | exit3 | throw | sigterm | handled.
'use strict';
const how = process.argv[2];
for (let i = 0; i < 2000; i++) process.stdout.write(`line ${i} \u00e9\u4e2d\n`);
console.log(JSON.stringify({ how, argv: process.argv.slice(2) }));

if (how === 'exit3') process.exit(3);
if (how === 'throw') throw new Error('uncaught on purpose');
if (how === 'sigterm') {
  setTimeout(() => {}, 10000); // would keep it alive: only the signal ends it
  setTimeout(() => process.kill(process.pid, 'SIGTERM'), 300);
}
if (how === 'handled') {
  process.on('SIGTERM', () => {
    console.log('handled SIGTERM');
    process.exit(5);
  });
  setTimeout(() => {}, 10000);
  setTimeout(() => process.kill(process.pid, 'SIGTERM'), 300);
}
