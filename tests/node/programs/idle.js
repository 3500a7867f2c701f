// Does nothing for DURATION_MS but keep its event loop alive.
'use strict';
setTimeout(() => {}, Number(process.env.DURATION_MS || 2500));
