'use strict';
/* global module, require */

const path = require('node:path');

/**
 * Puts each function's chunks in a folder named after its handler file (`createTask.chunks/`).
 * serverless-esbuild builds every function on its own into the one folder of its handlers and
 * leaves `<another handler>.*` out of a function's zip, so in these folders each function ships only
 * its own chunks, not those of every function beside it.
 */
const chunksPerFunction = {
  name: 'chunks-per-function',
  setup(build) {
    const entries = build.initialOptions.entryPoints;
    const entry = Array.isArray(entries) && entries.length === 1 ? entries[0] : undefined;
    if (typeof entry !== 'string') return;
    build.initialOptions.chunkNames = `${path.parse(entry).name}.chunks/[name]-[hash]`;
  },
};

module.exports = [chunksPerFunction];
