// Exits on its first line, before its event loop ever turns.
'use strict';
process.exit(0);
