'use strict';
/* global module, require */

/**
 * `provider.httpApi.cors` of every service: the stage's allowed origins (serverless/stage.cjs,
 * comma-separated) with the shared Middy stack's own policy, so the template and the functions
 * cannot drift apart. Never a wildcard: keys travel in headers and no credentials are allowed.
 */
const policy = require('../libs/middleware/src/cors.json');
const stageSettings = require('./stage.cjs');

module.exports = async ({ resolveVariable }) => {
  const origins = String((await stageSettings({ resolveVariable })).corsOrigins || '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.includes('*')) throw new Error('corsOrigins may not be "*": list the origins');
  return {
    allowedOrigins: origins,
    allowedHeaders: policy.allowHeaders,
    allowedMethods: policy.allowMethods,
    exposedResponseHeaders: policy.exposeHeaders,
    allowCredentials: false,
    maxAge: policy.maxAgeSeconds,
  };
};
