// One worker of swarm.js: `grow` keeps every batch of small objects it allocates, `churn`
// allocates the same batches and drops them. Runs for DURATION_MS (default 2500).
'use strict';
const mode = process.argv[2];
const duration = Number(process.env.DURATION_MS || 2500);
const kept = [];

function batch() {
  const objects = [];
  for (let i = 0; i < 20000; i++) objects.push({ i, text: `item-${i}-${mode}` });
  return objects;
}

const timer = setInterval(() => {
  const objects = batch();
  if (mode === 'grow') kept.push(objects);
}, 50);

setTimeout(() => {
  clearInterval(timer);
  process.exit(0);
}, duration);
