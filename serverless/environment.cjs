'use strict';
/* global module */

/**
 * Every function's environment: the base variables every service shares, plus the service's own
 * from `custom.environment`. (YAML cannot merge maps across files, and services that retyped the
 * shared variables were how they drifted apart.)
 */
// No NODE_OPTIONS=--enable-source-maps: it added about 55 ms to every cold start (Lambda bills INIT),
// and the bundles ship without maps (see esbuild.sourcemap in base.yml).
module.exports = async ({ resolveVariable }) => ({
  POWERTOOLS_SERVICE_NAME: await resolveVariable('self:service'),
  STAGE: await resolveVariable('sls:stage'),
  ...((await resolveVariable('self:custom.environment, null')) || {}),
});
