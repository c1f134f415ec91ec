'use strict';
/* global module, require */

/**
 * The HTTP side of every service, from `custom.http` (serverless/base.yml):
 * - every function with an httpApi event (and a WebSocket API's `$connect`, which checks `?key=`) gets
 *   its caller configuration (API_KEYS_PARAM on deployed stages, API_KEYS on the local ones) and
 *   CORS_ORIGINS, so no route can be left without a caller
 *   check by forgetting a variable (without one the shared HTTP stack answers every request 500);
 * - where keys come from SSM, each of those functions' own roles may read that one parameter and
 *   decrypt it only through SSM;
 * - the stage's HttpApiStage gets the rate and burst limits (DefaultRouteSettings);
 * - `serverless deploy` refuses the never-deployed stages, whose templates hold the published
 *   development key hashes.
 */
const { ssmReadStatements } = require('./declared-resources.cjs');

class HttpApiGuard {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      // After variables are resolved, before offline or packaging reads the functions.
      initialize: () => this.configureFunctions(),
      // After the per-function roles and the HTTP API exist, before the template is saved.
      'before:aws:package:finalize:saveServiceState': () => this.finishTemplate(),
      'before:deploy:deploy': () => this.refuseNeverDeployed(),
      'before:deploy:function:initialize': () => this.refuseNeverDeployed(),
    };
  }

  settings() {
    const http = (this.serverless.service.custom || {}).http;
    if (!http) throw new this.serverless.classes.Error('custom.http is missing (see serverless/base.yml)');
    return http;
  }

  stage() {
    return this.serverless.getProvider('aws').getStage();
  }

  httpFunctions() {
    const functions = this.serverless.service.functions || {};
    const identifies = (event) =>
      event.httpApi || (event.websocket && (event.websocket.route || event.websocket) === '$connect');
    return Object.entries(functions).filter(([, fn]) => (fn.events || []).some(identifies));
  }

  callerEnvironment() {
    const { apiKeysParam, apiKeys, corsOrigins } = this.settings();
    const keys = apiKeysParam
      ? { API_KEYS_PARAM: apiKeysParam }
      : apiKeys
        ? { API_KEYS: apiKeys }
        : undefined;
    if (!keys) {
      throw new this.serverless.classes.Error(
        `Stage ${this.stage()} has neither an apiKeysParam nor apiKeys: its HTTP routes could identify no caller`,
      );
    }
    return { ...keys, CORS_ORIGINS: corsOrigins || '' };
  }

  configureFunctions() {
    const environment = this.callerEnvironment();
    for (const [, fn] of this.httpFunctions()) fn.environment = { ...(fn.environment || {}), ...environment };
  }

  finishTemplate() {
    const { apiKeysParam, throttle } = this.settings();
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider('aws').naming;
    if (apiKeysParam) {
      for (const [name] of this.httpFunctions()) {
        const fn = resources[naming.getLambdaLogicalId(name)];
        const roleId =
          fn && fn.Properties.Role && fn.Properties.Role['Fn::GetAtt'] && fn.Properties.Role['Fn::GetAtt'][0];
        const role = roleId && resources[roleId];
        const policy = role && role.Type === 'AWS::IAM::Role' && (role.Properties.Policies || [])[0];
        if (!policy)
          throw new this.serverless.classes.Error(`${name}: no role of its own to grant the key parameter`);
        policy.PolicyDocument.Statement.push(...ssmReadStatements(apiKeysParam));
      }
    }
    // The HTTP API's stage and a WebSocket API's stage alike: a flood of messages costs invocations too.
    for (const stage of [resources.HttpApiStage, resources.WebsocketsDeploymentStage]) {
      if (!stage) continue;
      stage.Properties.DefaultRouteSettings = {
        ...(stage.Properties.DefaultRouteSettings || {}),
        ThrottlingRateLimit: Number(throttle.rateLimit),
        ThrottlingBurstLimit: Number(throttle.burstLimit),
      };
    }
  }

  refuseNeverDeployed() {
    const stage = this.stage();
    if ((this.settings().neverDeployedStages || []).includes(stage)) {
      throw new this.serverless.classes.Error(
        `Stage "${stage}" is never deployed: its API keys are the published development keys. ` +
          'Deploy a stage such as dev or prod, with its keys in SSM (README, Auth).',
      );
    }
  }
}

module.exports = HttpApiGuard;
