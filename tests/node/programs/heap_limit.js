// Prints the V8 heap limit it runs with, so a NODE_OPTIONS --max-old-space-size is visible.
'use strict';
const v8 = require('v8');
console.log(JSON.stringify({ heap_size_limit: v8.getHeapStatistics().heap_size_limit }));
setTimeout(() => {}, 300);
