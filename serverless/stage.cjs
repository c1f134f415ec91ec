'use strict';
/* global module, require, __dirname, process */

/**
 * The settings every service shares that depend only on the stage, so no serverless.yml repeats
 * them: `${file(../../serverless/stage.cjs):<name>}`. Deployed stages read the callers' hashed keys
 * from SSM and allow the origins in OFFLOAD_CORS_ORIGINS; the never-deployed stages (base.yml,
 * http.neverDeployedStages) carry the published development keys inline and allow the page the local
 * stack serves (it passes OFFLOAD_LOCAL_CORS_ORIGINS, HTTP base + 90).
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');

const base = yaml.load(readFileSync(path.join(__dirname, 'base.yml'), 'utf8'));

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const local = base.http.neverDeployedStages.includes(stage);
  const eventsTopic = `offload-live-updates-${stage}-events`;
  return {
    apiKeysParam: local ? '' : `/offload/${stage}/api-keys`,
    apiKeys: local ? base.devApiKeys : '',
    corsOrigins: local
      ? (process.env.OFFLOAD_LOCAL_CORS_ORIGINS ?? 'http://localhost:3090')
      : (process.env.OFFLOAD_CORS_ORIGINS ?? ''),
    logRetentionDays: stage === 'prod' ? 30 : 14,
    // Read by the functions of every service that calls the provider (custom.ssmParameters).
    openaiApiKeyParam: `/offload/${stage}/openai-api-key`,
    // The stage's live-update events topic (owned by live-updates; serverless-compose.yml passes its
    // ARN as the eventsTopicArn param). Its name is fixed, so a standalone deploy builds the same ARN;
    // serverless-offline does not resolve CloudFormation references, so the local stack passes the
    // ARN the emulator gave it (otherwise, the account fauxqs and LocalStack use).
    eventsTopicArn: local
      ? (process.env.OFFLOAD_LOCAL_ARN_EventsTopic ??
        `arn:aws:sns:${await resolveVariable('self:provider.region')}:000000000000:${eventsTopic}`)
      : { 'Fn::Sub': `arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:${eventsTopic}` },
  };
};
