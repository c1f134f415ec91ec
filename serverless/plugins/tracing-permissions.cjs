'use strict';
/* global module */

/**
 * With `provider.tracing.lambda`, the framework grants X-Ray writes only to its default role, which
 * serverless-iam-roles-per-function replaces with one role per function (and drop-unused-default-role
 * removes). This adds the two X-Ray actions active tracing needs to each traced function's own role.
 * X-Ray has no resource-level permissions, so the resource is `*` (allow-listed in the template rules).
 */
class TracingPermissions {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // After the per-function roles exist (package:compileEvents), before the template is saved.
      'before:aws:package:finalize:saveServiceState': () => this.grant(),
    };
  }

  grant() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = (template && template.Resources) || {};
    for (const fn of Object.values(resources)) {
      if (fn.Type !== 'AWS::Lambda::Function') continue;
      const props = fn.Properties || {};
      if (!props.TracingConfig || props.TracingConfig.Mode !== 'Active') continue;
      const roleId = props.Role && props.Role['Fn::GetAtt'] && props.Role['Fn::GetAtt'][0];
      const role = roleId && resources[roleId];
      if (!role || role.Type !== 'AWS::IAM::Role') continue;
      const policy = (role.Properties.Policies || [])[0];
      if (!policy) continue;
      const statements = policy.PolicyDocument.Statement;
      if (statements.some((statement) => [].concat(statement.Action).includes('xray:PutTraceSegments')))
        continue;
      statements.push({
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
  }
}

module.exports = TracingPermissions;
