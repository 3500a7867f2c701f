// Makes process.versions.node read PRETEND_NODE_VERSION, to test the preload's version gate
// on the one Node installed. Load it before the preload.
'use strict';
const pretend = Object.assign({}, process.versions, { node: process.env.PRETEND_NODE_VERSION });
Object.defineProperty(process, 'versions', { value: pretend });
