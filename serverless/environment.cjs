'use strict';
/* global module */

/**
 * Every function's environment: the base variables every service shares, plus the service's own
 * from `custom.environment`. (YAML cannot merge maps across files, and services that retyped the
 * shared variables were how they drifted apart.)
 */
module.exports = async ({ resolveVariable }) => ({
  NODE_OPTIONS: '--enable-source-maps',
  POWERTOOLS_SERVICE_NAME: await resolveVariable('self:service'),
  STAGE: await resolveVariable('sls:stage'),
  ...((await resolveVariable('self:custom.environment, null')) || {}),
});
