'use strict';
/* global module */

/**
 * serverless-iam-roles-per-function gives every function with `iamRoleStatements` its own role,
 * but it clones those roles from the framework's default `IamRoleLambdaExecution`, which it leaves
 * in the template. When no function (or anything else) uses that role, it is a deployed role
 * nobody assumes, still holding log and SQS permissions for the whole service. This removes it
 * from the compiled template (package and deploy alike) only when nothing references it.
 */
class DropUnusedDefaultRole {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      // After custom resources are merged (so they count as users), before the template is saved.
      'before:aws:package:finalize:saveServiceState': () => this.dropIfUnused(),
    };
  }

  dropIfUnused() {
    const provider = this.serverless.service.provider;
    const template = provider.compiledCloudFormationTemplate;
    const logicalId = this.serverless.getProvider('aws').naming.getRoleLogicalId();
    if (!template || !template.Resources || !template.Resources[logicalId]) return;

    const { [logicalId]: role, ...others } = template.Resources;
    const rest = JSON.stringify({ ...template, Resources: others });
    // Matches Ref/GetAtt/DependsOn values and Fn::Sub placeholders, not longer logical ids such
    // as CreateTaskIamRoleLambdaExecution.
    const reference = new RegExp(`(^|[^A-Za-z0-9])${logicalId}([^A-Za-z0-9]|$)`);
    if (reference.test(rest)) return;

    delete template.Resources[logicalId];
    if (this.log)
      this.log.verbose(`Removed unused ${logicalId} (${role.Type}): every function has its own role`);
  }
}

module.exports = DropUnusedDefaultRole;
