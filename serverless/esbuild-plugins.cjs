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
const LAZY_NAMESPACE = 'builtin-through-require-lazy';
const IMPORTS = new Set(['import-statement', 'dynamic-import']);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The module's source: `require` it once, and export each of its names as its own binding, read
 * from the required object. esbuild keeps only the bindings a bundle imports (each read is marked
 * pure), so a getter like `http.WebSocket` is read only by code that imports it. A name is read
 * once, when the bundle loads, as Node's own ES facade does; code that reassigns one (such as
 * `http.globalAgent`) is seen through the default import. The names come from the module in the
 * Node that builds, the same major as the runtime's.
 */
function builtinSource(name) {
  const names = Object.keys(require(name)).filter((key) => IDENTIFIER.test(key) && key !== 'default');
  return [
    `const builtin = require(${JSON.stringify(name)});`,
    'export default builtin;',
    ...names.map((key) => `export const ${key} = /* @__PURE__ */ (() => builtin.${key})();`),
  ].join('\n');
}

/**
 * Loads Node's own modules through `require` instead of `import`. An `import` of a built-in module
 * builds its ES module facade, which reads every export once, lazy getters included: for `http`
 * that loads undici for `http.WebSocket`, about 30 ms of every cold start that never uses it
 * (nodejs/node#57649). The module stands in as an ES module of its own, not as CommonJS: esbuild
 * wraps an imported CommonJS module in a copy that defines a getter for every one of its exports
 * (about 100 for `crypto` or `fs`) at each cold start.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    if (build.initialOptions.format !== 'esm') return;
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!IMPORTS.has(args.kind) || !BUILTIN.has(args.path)) return undefined;
      const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // `import()` needs the whole namespace: as CommonJS, esbuild builds it of getters, so
      // nothing is read before it is used.
      return { path: name, namespace: args.kind === 'dynamic-import' ? LAZY_NAMESPACE : NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: builtinSource(args.path),
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: LAZY_NAMESPACE }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

module.exports = [chunksPerFunction, builtinsThroughRequire];
