'use strict';
/* global module, require */

const path = require('node:path');
const { builtinModules } = require('node:module');

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

const BUILTIN = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const NAMESPACE = 'builtin-through-require';
const IMPORTS = new Set(['import-statement', 'dynamic-import']);

/**
 * Loads Node's own modules through `require` instead of `import`. An `import` of a built-in module
 * builds its ES module facade, which reads every export once, lazy getters included: for `http`
 * that loads undici for `http.WebSocket`, about 30 ms of every cold start that never uses it
 * (nodejs/node#57649). Through `require`, esbuild reads each export where it is used.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    if (build.initialOptions.format !== 'esm') return;
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!IMPORTS.has(args.kind) || !BUILTIN.has(args.path)) return undefined;
      const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      return { path: name, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

module.exports = [chunksPerFunction, builtinsThroughRequire];
