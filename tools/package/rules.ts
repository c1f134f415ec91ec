import { createHash } from 'node:crypto';

/**
 * Rules every packaged CloudFormation template must satisfy. Each rule is a plain function over a
 * template object, so the same code checks the real templates (templates.test.ts) and the small
 * hand-made bad fragments that prove each rule can fail (rules.test.ts).
 */

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: Record<string, unknown>;
}

export interface Template {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
}

export interface Violation {
  rule: string;
  resource: string;
  message: string;
}

export interface RuleContext {
  /** The region the template was packaged for: resolves `Ref: AWS::Region` in names. */
  region: string;
  /**
   * Characters a longer deployed stage name would add to every name (e.g. 1 when checking a dev
   * template for prod too).
   */
  nameSlack?: number;
  /** The stage the template was packaged for; rules about deployed stages read it. */
  stage?: string;
}

export interface Rule {
  name: string;
  description: string;
  check(template: Template, context: RuleContext): Violation[];
}

interface Statement {
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// Template helpers
// ---------------------------------------------------------------------------------------------

type Intrinsic = Record<string, unknown>;

const isObject = (value: unknown): value is Intrinsic =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asArray = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function resourcesOfType(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

function props(resource: CfnResource): Record<string, unknown> {
  return resource.Properties ?? {};
}

/** The logical id an `Fn::GetAtt [Id, Attribute]` (or `Id.Attribute`) points at, if any. */
function getAttTarget(value: unknown, attribute: string): string | undefined {
  if (!isObject(value) || !('Fn::GetAtt' in value)) return undefined;
  const target = value['Fn::GetAtt'];
  const [id, attr] = Array.isArray(target) ? target : String(target).split('.');
  return attr === attribute ? String(id) : undefined;
}

/** The logical id a `Ref` points at (pseudo parameters excluded). */
function refTarget(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.Ref !== 'string' || value.Ref.startsWith('AWS::')) return undefined;
  return value.Ref;
}

/**
 * A readable rendering of a value for wildcard checks: strings as they are, `Fn::Sub` templates
 * as written, references as `${Id}` / `${Id.Attr}` placeholders (which never contain `*`).
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(render).join(',');
  if (!isObject(value)) return '';
  if (typeof value.Ref === 'string') return `\${${value.Ref}}`;
  if ('Fn::GetAtt' in value) return `\${${asArray(value['Fn::GetAtt']).map(String).join('.')}}`;
  if ('Fn::Sub' in value) return render(asArray(value['Fn::Sub'])[0]);
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    return asArray(parts).map(render).join(separator);
  }
  return JSON.stringify(value);
}

/**
 * The exact string a value becomes at deploy time, when the template alone decides it: literals,
 * `Fn::Join` of literals, `Ref: AWS::Region` (the packaged region) and `AWS::Partition`.
 * Undefined when it depends on anything else.
 */
export function resolveString(value: unknown, context: RuleContext): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (!isObject(value)) return undefined;
  if (value.Ref === 'AWS::Region') return context.region;
  if (value.Ref === 'AWS::Partition') return 'aws';
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    const resolved = asArray(parts).map((part) => resolveString(part, context));
    return resolved.every((part) => part !== undefined) ? resolved.join(separator) : undefined;
  }
  return undefined;
}

/** True when anything besides the resource itself names it (Ref, GetAtt, DependsOn, Fn::Sub). */
function isReferenced(template: Template, logicalId: string): boolean {
  const { [logicalId]: _self, ...others } = template.Resources;
  const rest = JSON.stringify({ ...template, Resources: others });
  return new RegExp(`(^|[^A-Za-z0-9])${logicalId}([^A-Za-z0-9]|$)`).test(rest);
}

/** Every policy statement in the template, with the resource that holds it. */
export function policyStatements(template: Template): { resource: string; statement: Statement }[] {
  const found: { resource: string; statement: Statement }[] = [];
  const add = (resource: string, document: unknown) => {
    if (!isObject(document)) return;
    for (const statement of asArray(document.Statement)) {
      if (isObject(statement)) found.push({ resource, statement: statement as Statement });
    }
  };
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const properties = props(resource);
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        for (const policy of asArray(properties.Policies))
          if (isObject(policy)) add(id, policy.PolicyDocument);
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::S3::BucketPolicy':
        add(id, properties.PolicyDocument);
        break;
      default:
    }
  }
  return found;
}

function lambdaFunctionNames(template: Template): Set<string> {
  return new Set(
    resourcesOfType(template, 'AWS::Lambda::Function')
      .map(([, fn]) => props(fn).FunctionName)
      .filter((name): name is string => typeof name === 'string'),
  );
}

/** Whether an event source mapping reads SQS, and the queue's logical id when it is in the template. */
function sqsSource(template: Template, mapping: CfnResource): { sqs: boolean; queueId?: string } {
  const source = props(mapping).EventSourceArn;
  const queueId = getAttTarget(source, 'Arn');
  if (queueId !== undefined && template.Resources[queueId]?.Type === 'AWS::SQS::Queue')
    return { sqs: true, queueId };
  return { sqs: render(source).includes(':sqs:') };
}

function parseRedrivePolicy(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isObject(value) ? value : undefined;
}

/** Queues some other queue's, or an SNS subscription's, RedrivePolicy sends its dead letters to. */
export function deadLetterQueues(template: Template): Set<string> {
  const dlqs = new Set<string>();
  const sources = [
    ...resourcesOfType(template, 'AWS::SQS::Queue'),
    ...resourcesOfType(template, 'AWS::SNS::Subscription'),
  ];
  for (const [, source] of sources) {
    const target = getAttTarget(parseRedrivePolicy(props(source).RedrivePolicy)?.deadLetterTargetArn, 'Arn');
    if (target) dlqs.add(target);
  }
  return dlqs;
}

// ---------------------------------------------------------------------------------------------
// The `*` allow-list: every wildcard an Allow statement may carry, each with why AWS requires it.
// ---------------------------------------------------------------------------------------------

export interface AllowListEntry {
  id: string;
  justification: string;
  matches(statement: Statement, template: Template): boolean;
}

const actionsOf = (statement: Statement) => asArray(statement.Action).map(String);
const resourcesOf = (statement: Statement) => asArray(statement.Resource).map(render);
const onlyActions = (statement: Statement, allowed: string[]) =>
  actionsOf(statement).length > 0 && actionsOf(statement).every((action) => allowed.includes(action));

export const WILDCARD_ALLOW_LIST: AllowListEntry[] = [
  {
    id: 'lambda-log-streams',
    justification:
      "Lambda names a function's log streams at run time (date and execution environment), so they " +
      'cannot be listed in advance. serverless-iam-roles-per-function writes this statement into ' +
      "every function's role; the wildcard is confined to that function's own log group " +
      '(`log-group:/aws/lambda/<function name>:*:*`), whose name the template fixes.',
    matches(statement, template) {
      const functions = lambdaFunctionNames(template);
      return (
        onlyActions(statement, ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents']) &&
        resourcesOf(statement).every((arn) => {
          const match = /:log-group:\/aws\/lambda\/([^:*]+):\*(:\*)?$/.exec(arn);
          return match !== null && functions.has(match[1]!);
        })
      );
    },
  },
  {
    id: 'ssm-parameter-decrypt',
    justification:
      'The KMS key that encrypts a SecureString parameter (the AWS-managed aws/ssm key, or a ' +
      'customer key) has an id the template cannot know, so the key is `key/*`. The conditions make it exact: decryption only through SSM (`kms:ViaService`) and only for the one parameter whose ARN SSM passes as encryption context ' +
      '(`kms:EncryptionContext:PARAMETER_ARN`).',
    matches(statement) {
      const equals = statement.Condition?.StringEquals ?? {};
      const viaService = render(equals['kms:ViaService']);
      const parameter = render(equals['kms:EncryptionContext:PARAMETER_ARN']);
      return (
        onlyActions(statement, ['kms:Decrypt']) &&
        resourcesOf(statement).every((arn) => /^arn:[^*]*:kms:[^*]*:key\/\*$/.test(arn)) &&
        /^ssm\.[^*]+\.amazonaws\.com$/.test(viaService) &&
        /:ssm:[^*]*:parameter\/[^*]+$/.test(parameter)
      );
    },
  },
  {
    id: 'websocket-connections',
    justification:
      'API Gateway assigns WebSocket connection ids at run time, so postToConnection cannot name ' +
      'them in advance: the wildcard is only the connection id, after `@connections/`, on one ' +
      'WebSocket API of this template, one stage and one method; the action is ManageConnections alone.',
    matches(statement, template) {
      const apis = new Set(resourcesOfType(template, 'AWS::ApiGatewayV2::Api').map(([id]) => id));
      return (
        onlyActions(statement, ['execute-api:ManageConnections']) &&
        resourcesOf(statement).every((arn) => {
          const match =
            /:execute-api:[^*]*:\$\{([A-Za-z0-9]+)\}\/[^*/]+\/(POST|GET|DELETE)\/@connections\/\*$/.exec(arn);
          return match !== null && apis.has(match[1]!);
        })
      );
    },
  },
  {
    id: 'xray-trace-writes',
    justification:
      'X-Ray has no resource-level permissions: PutTraceSegments and PutTelemetryRecords only take ' +
      '`*`. Every traced function needs them (active tracing); they write traces and read nothing.',
    matches(statement) {
      return (
        onlyActions(statement, ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) &&
        resourcesOf(statement).every((arn) => arn === '*')
      );
    },
  },
];

/** Which allow-list entry (if any) accepts a statement's wildcards. */
export function allowListEntryFor(statement: Statement, template: Template): AllowListEntry | undefined {
  return WILDCARD_ALLOW_LIST.find((entry) => entry.matches(statement, template));
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

const violation = (rule: string, resource: string, message: string): Violation => ({
  rule,
  resource,
  message,
});

export const iamWildcards: Rule = {
  name: 'iam-wildcards',
  description: 'no Allow statement has a `*` action or resource unless the allow-list says why AWS needs it',
  check(template) {
    const found: Violation[] = [];
    for (const { resource, statement } of policyStatements(template)) {
      if (statement.Effect !== 'Allow') continue; // a Deny with wildcards only narrows access
      const problems: string[] = [];
      if (statement.NotAction !== undefined) problems.push('uses NotAction (allows every other action)');
      if (statement.NotResource !== undefined)
        problems.push('uses NotResource (allows every other resource)');
      const actions = actionsOf(statement).filter((action) => action.includes('*'));
      const resources = resourcesOf(statement).filter((arn) => arn.includes('*'));
      const allowListed = allowListEntryFor(statement, template) !== undefined;
      if (actions.length > 0 && !allowListed) {
        problems.push(`wildcard action ${actions.join(', ')}`);
      }
      if (resources.length > 0 && !allowListed) {
        problems.push(`wildcard resource ${resources.join(', ')}`);
      }
      if (render(statement.Principal).includes('*') && statement.Condition === undefined) {
        problems.push('allows any principal without a condition');
      }
      for (const problem of problems) {
        found.push(violation(this.name, resource, `${problem} in ${JSON.stringify(statement)}`));
      }
    }
    return found;
  },
};

export const unusedRoles: Rule = {
  name: 'unused-roles',
  description: 'every IAM role is used by something in the template (no orphan role keeps permissions)',
  check(template) {
    return resourcesOfType(template, 'AWS::IAM::Role')
      .filter(([id]) => !isReferenced(template, id))
      .map(([id]) => violation(this.name, id, 'no function or other resource uses this role'));
  },
};

export const sqsVisibility: Rule = {
  name: 'sqs-visibility',
  description: "an SQS event source's queue visibility timeout is at least 6x the function's timeout",
  check(template) {
    const found: Violation[] = [];
    for (const [id, mapping] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
      const { sqs, queueId } = sqsSource(template, mapping);
      if (!sqs) continue;
      const queue = queueId ? template.Resources[queueId] : undefined;
      if (!queue) {
        const source = render(props(mapping).EventSourceArn);
        found.push(violation(this.name, id, `cannot resolve the queue ${source} in this template`));
        continue;
      }
      const fnValue = props(mapping).FunctionName;
      const fnId = getAttTarget(fnValue, 'Arn') ?? refTarget(fnValue);
      const fn = fnId ? template.Resources[fnId] : undefined;
      if (!fn) {
        found.push(violation(this.name, id, `cannot resolve the function ${render(fnValue)}`));
        continue;
      }
      const visibility = Number(props(queue).VisibilityTimeout ?? 30); // SQS default
      const timeout = Number(props(fn).Timeout ?? 3); // Lambda default
      if (!(visibility >= 6 * timeout)) {
        found.push(
          violation(
            this.name,
            id,
            `${queueId} visibility ${visibility}s is under 6x ${fnId}'s timeout ${timeout}s (needs >= ${6 * timeout}s)`,
          ),
        );
      }
    }
    return found;
  },
};

/** AWS's advice for queues whose consumer has reserved concurrency: throttled receives count too. */
export const MIN_RECEIVES_WITH_RESERVED_CONCURRENCY = 5;

export const reservedConcurrencyReceives: Rule = {
  name: 'reserved-concurrency-receives',
  description: `an SQS event source whose function has reserved concurrency reads a queue with maxReceiveCount >= ${MIN_RECEIVES_WITH_RESERVED_CONCURRENCY}`,
  check(template) {
    const found: Violation[] = [];
    for (const [id, mapping] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
      const { sqs, queueId } = sqsSource(template, mapping);
      const queue = queueId ? template.Resources[queueId] : undefined;
      const fnValue = props(mapping).FunctionName;
      const fnId = getAttTarget(fnValue, 'Arn') ?? refTarget(fnValue);
      const fn = fnId ? template.Resources[fnId] : undefined;
      // Unresolvable sources and queues without a redrive policy are other rules' findings.
      if (!sqs || !queue || !fn) continue;
      if (props(fn).ReservedConcurrentExecutions === undefined) continue;
      const redrive = parseRedrivePolicy(props(queue).RedrivePolicy);
      if (!redrive) continue;
      const receives = Number(redrive.maxReceiveCount);
      if (!(receives >= MIN_RECEIVES_WITH_RESERVED_CONCURRENCY)) {
        found.push(
          violation(
            this.name,
            id,
            `${queueId} maxReceiveCount ${render(redrive.maxReceiveCount)} is under ${MIN_RECEIVES_WITH_RESERVED_CONCURRENCY} while ${fnId} has reserved concurrency (throttled receives count)`,
          ),
        );
      }
    }
    return found;
  },
};

export const batchItemFailures: Rule = {
  name: 'batch-item-failures',
  description: 'every SQS event source mapping reports partial batch failures',
  check(template) {
    return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
      .filter(([, mapping]) => sqsSource(template, mapping).sqs)
      .filter(
        ([, mapping]) => !asArray(props(mapping).FunctionResponseTypes).includes('ReportBatchItemFailures'),
      )
      .map(([id]) => violation(this.name, id, "FunctionResponseTypes lacks 'ReportBatchItemFailures'"));
  },
};

export const DLQ_RETENTION_SECONDS = 1209600; // 14 days, the SQS maximum

export const redriveAndRetention: Rule = {
  name: 'redrive-and-retention',
  description: 'every queue but a DLQ has a RedrivePolicy with maxReceiveCount; every DLQ keeps 14 days',
  check(template) {
    const found: Violation[] = [];
    const dlqs = deadLetterQueues(template);
    for (const [id, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
      if (dlqs.has(id)) {
        const retention = Number(props(queue).MessageRetentionPeriod ?? 345600);
        if (retention !== DLQ_RETENTION_SECONDS) {
          found.push(
            violation(this.name, id, `DLQ retention is ${retention}s, not ${DLQ_RETENTION_SECONDS}s`),
          );
        }
        continue;
      }
      const redrive = parseRedrivePolicy(props(queue).RedrivePolicy);
      if (!redrive) {
        found.push(violation(this.name, id, 'queue has no RedrivePolicy (a poison message would loop)'));
        continue;
      }
      if (!(Number(redrive.maxReceiveCount) >= 1)) {
        found.push(violation(this.name, id, 'RedrivePolicy has no maxReceiveCount'));
      }
      if (redrive.deadLetterTargetArn === undefined) {
        found.push(violation(this.name, id, 'RedrivePolicy has no deadLetterTargetArn'));
      }
    }
    return found;
  },
};

export const dlqAlarms: Rule = {
  name: 'dlq-alarms',
  description: 'every DLQ has a CloudWatch alarm on its depth',
  check(template) {
    const alarmed = new Set<string>();
    const queueNames = new Map(
      resourcesOfType(template, 'AWS::SQS::Queue').map(([id, queue]) => [props(queue).QueueName, id]),
    );
    for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      const p = props(alarm);
      if (p.Namespace !== 'AWS/SQS' || p.MetricName !== 'ApproximateNumberOfMessagesVisible') continue;
      for (const dimension of asArray(p.Dimensions)) {
        if (!isObject(dimension) || dimension.Name !== 'QueueName') continue;
        const queueId = getAttTarget(dimension.Value, 'QueueName') ?? queueNames.get(dimension.Value);
        if (queueId) alarmed.add(queueId);
      }
    }
    return [...deadLetterQueues(template)]
      .filter((dlq) => !alarmed.has(dlq))
      .map((dlq) => violation(this.name, dlq, 'no alarm on ApproximateNumberOfMessagesVisible of this DLQ'));
  },
};

export const alarmActions: Rule = {
  name: 'alarm-actions',
  description: 'every alarm notifies someone (AlarmActions, possibly conditional on the alarm topic)',
  check(template) {
    return resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .filter(([, alarm]) => {
        const actions = props(alarm).AlarmActions;
        return !(Array.isArray(actions) ? actions.length > 0 : isObject(actions) && 'Fn::If' in actions);
      })
      .map(([id]) => violation(this.name, id, 'alarm has no AlarmActions'));
  },
};

export const logRetention: Rule = {
  name: 'log-retention',
  description: 'every function has its log group in the template, and every log group has RetentionInDays',
  check(template) {
    const found: Violation[] = [];
    const groups = new Map<unknown, string>();
    for (const [id, group] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      groups.set(props(group).LogGroupName, id);
      if (!(Number(props(group).RetentionInDays) > 0)) {
        found.push(violation(this.name, id, 'log group has no RetentionInDays (logs kept forever)'));
      }
    }
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const logging = props(fn).LoggingConfig;
      const name =
        isObject(logging) && logging.LogGroup
          ? logging.LogGroup
          : `/aws/lambda/${render(props(fn).FunctionName)}`;
      if (!groups.has(name)) {
        found.push(
          violation(
            this.name,
            id,
            `no log group ${render(name)} in the template (Lambda would create one that never expires)`,
          ),
        );
      }
    }
    return found;
  },
};

export const NAME_LIMIT = 64;

/** The longest AWS region names have 14 characters (ap-southeast-1..7, ap-northeast-1..3). */
export const LONGEST_REGION = 'ap-southeast-2';

/**
 * A role name as serverless-iam-roles-per-function would build it in `region`: it drops the
 * trailing `lambdaRole` part when the name would exceed the limit (and fails the package if it
 * still does).
 */
function roleNameIn(value: unknown, region: string, slack: number): string | undefined {
  const name = resolveString(value, { region });
  if (name === undefined || name.length + slack <= NAME_LIMIT) return name;
  const join = isObject(value) ? (value['Fn::Join'] as [string, unknown[]] | undefined) : undefined;
  if (!join || join[1].at(-1) !== 'lambdaRole') return name;
  return resolveString({ 'Fn::Join': [join[0], join[1].slice(0, -1)] }, { region });
}

export const nameLengths: Rule = {
  name: 'name-lengths',
  description:
    'function and IAM role names are at most 64 characters, for every deployed stage name and in every region',
  check(template, context) {
    const found: Violation[] = [];
    const slack = context.nameSlack ?? 0;
    const tooLong = (id: string, what: string, name: string, where: string) => {
      if (name.length + slack <= NAME_LIMIT) return;
      const stages = slack > 0 ? ` (+${slack} for a longer stage name)` : '';
      found.push(
        violation(
          this.name,
          id,
          `${what} ${name} has ${name.length}${stages} characters ${where}(max ${NAME_LIMIT})`,
        ),
      );
    };
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const value = props(fn).FunctionName;
      if (value === undefined) continue; // CloudFormation generates a name within the limit
      const name = resolveString(value, context);
      if (name === undefined)
        found.push(violation(this.name, id, `cannot compute FunctionName ${render(value)}`));
      else tooLong(id, 'FunctionName', name, '');
    }
    for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      const value = props(role).RoleName;
      if (value === undefined) continue;
      const name = resolveString(value, context);
      if (name === undefined) {
        found.push(violation(this.name, id, `cannot compute RoleName ${render(value)}`));
        continue;
      }
      // Exact in the packaged region; then as the plugin would name it in the longest region.
      if (name.length > NAME_LIMIT) tooLong(id, 'RoleName', name, '');
      else tooLong(id, 'RoleName', roleNameIn(value, LONGEST_REGION, slack)!, `in ${LONGEST_REGION} `);
    }
    return found;
  },
};

/** Environment variables whose names say "secret" but whose literal value is allowed, and why. */
export const SECRET_NAME_ALLOW_LIST: {
  name: string;
  justification: string;
  valid(value: string): boolean;
}[] = [
  {
    name: 'API_KEYS',
    justification:
      'ai-jobs callers as `sha256(key):user:tier` entries: digests, never a usable key (a raw key ' +
      'would not match the format and still fails).',
    valid: (value) =>
      value === '' ||
      value.split(',').every((entry) => /^[0-9a-f]{64}:[^:,]+:[^:,]+(:operator)?$/.test(entry)),
  },
  {
    name: 'OPENAI_MAX_TOKENS',
    justification: "the cap on each LLM answer's length (max_tokens), a count of tokens, not a credential.",
    valid: (value) => /^\d+$/.test(value),
  },
];

const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD/i;
const POINTER_NAME = /_(PARAM|PARAMETER|ARN|NAME)$/;
const POINTER_VALUE = /^(\/[\w./-]+|arn:[\w-]+:(ssm|secretsmanager):.+)$/;

export const noPlainSecrets: Rule = {
  name: 'no-plain-secrets',
  description: 'no secret-named environment variable holds a literal value instead of a reference',
  check(template) {
    const found: Violation[] = [];
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const environment = props(fn).Environment;
      const variables = isObject(environment) && isObject(environment.Variables) ? environment.Variables : {};
      for (const [name, value] of Object.entries(variables)) {
        if (!SECRET_NAME.test(name)) continue;
        if (typeof value !== 'string') continue; // an intrinsic: a reference, resolved by CloudFormation
        if (value === '' || value.startsWith('{{resolve:')) continue;
        if (POINTER_NAME.test(name) && POINTER_VALUE.test(value)) continue; // names where the secret lives
        const allowed = SECRET_NAME_ALLOW_LIST.find((entry) => entry.name === name);
        if (allowed?.valid(value)) continue;
        found.push(
          violation(this.name, id, `${name} holds a literal value; pass a reference (SSM parameter name)`),
        );
      }
    }
    return found;
  },
};

/**
 * Lambda runtimes AWS still lets a function be created and updated with. A runtime past its
 * block date makes every deploy fail, so the template is rejected here, before any account is.
 */
export const SUPPORTED_RUNTIMES = ['nodejs22.x', 'nodejs24.x'];

export const lambdaRuntime: Rule = {
  name: 'lambda-runtime',
  description: `every function runs on a supported runtime (${SUPPORTED_RUNTIMES.join(', ')})`,
  check(template) {
    return resourcesOfType(template, 'AWS::Lambda::Function')
      .filter(([, fn]) => !SUPPORTED_RUNTIMES.includes(String(props(fn).Runtime)))
      .map(([id, fn]) =>
        violation(
          this.name,
          id,
          `runtime ${render(props(fn).Runtime)} is not one of ${SUPPORTED_RUNTIMES.join(', ')}`,
        ),
      );
  },
};

/** What serverless/base.yml gives every function; a service that dropped it shows up here. */
export const BASE_ENVIRONMENT = ['POWERTOOLS_SERVICE_NAME', 'STAGE'];

/** NODE_OPTIONS flags that cost every cold start more than they give a function that ships no maps. */
const COSTLY_NODE_OPTIONS = ['--enable-source-maps'];

export const baseSettings: Rule = {
  name: 'base-settings',
  description: `every function has active X-Ray tracing and the base environment (${BASE_ENVIRONMENT.join(', ')}), and no ${COSTLY_NODE_OPTIONS.join(', ')} in NODE_OPTIONS`,
  check(template) {
    const found: Violation[] = [];
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const tracing = props(fn).TracingConfig;
      if (!(isObject(tracing) && tracing.Mode === 'Active'))
        found.push(violation(this.name, id, 'function has no active X-Ray tracing'));
      const environment = props(fn).Environment;
      const variables = isObject(environment) && isObject(environment.Variables) ? environment.Variables : {};
      const missing = BASE_ENVIRONMENT.filter((name) => !(name in variables));
      if (missing.length > 0)
        found.push(violation(this.name, id, `function lacks base environment ${missing.join(', ')}`));
      const nodeOptions = String(variables.NODE_OPTIONS ?? '').split(/\s+/);
      const costly = COSTLY_NODE_OPTIONS.filter((flag) => nodeOptions.includes(flag));
      if (costly.length > 0)
        found.push(
          violation(this.name, id, `NODE_OPTIONS has ${costly.join(', ')}, which slows every cold start`),
        );
    }
    return found;
  },
};

// ---------------------------------------------------------------------------------------------
// HTTP APIs: who may call, how often, from which browser origins
// ---------------------------------------------------------------------------------------------

/** The first `Fn::GetAtt [X, Arn]` anywhere in a value (a WebSocket integration URI nests it in a join). */
function nestedArnTarget(value: unknown): string | undefined {
  const direct = getAttTarget(value, 'Arn');
  if (direct) return direct;
  if (Array.isArray(value)) return value.map(nestedArnTarget).find((id) => id !== undefined);
  if (isObject(value))
    return Object.values(value)
      .map(nestedArnTarget)
      .find((id) => id !== undefined);
  return undefined;
}

/** The function an API route's integration invokes, by logical id. */
function routeFunction(template: Template, route: CfnResource): string | undefined {
  const target = props(route).Target;
  const parts = isObject(target) && 'Fn::Join' in target ? asArray((target['Fn::Join'] as unknown[])[1]) : [];
  const integrationId = parts.map(refTarget).find((id) => id !== undefined);
  const integration = integrationId ? template.Resources[integrationId] : undefined;
  return integration ? nestedArnTarget(props(integration).IntegrationUri) : undefined;
}

const isWebSocketApi = (template: Template, apiId: string | undefined) =>
  apiId !== undefined && props(template.Resources[apiId] ?? { Type: '' }).ProtocolType === 'WEBSOCKET';

function variablesOf(fn: CfnResource | undefined): Record<string, unknown> {
  const environment = fn && props(fn).Environment;
  return isObject(environment) && isObject(environment.Variables) ? environment.Variables : {};
}

/** Whether the function's own role may read the SSM parameter at `name` (e.g. /offload/prod/api-keys). */
function mayReadParameter(template: Template, fn: CfnResource, name: string): boolean {
  const roleId = getAttTarget(props(fn).Role, 'Arn');
  if (!roleId) return false;
  return policyStatements(template).some(
    ({ resource, statement }) =>
      resource === roleId &&
      statement.Effect === 'Allow' &&
      actionsOf(statement).includes('ssm:GetParameter') &&
      resourcesOf(statement).some((arn) => arn.endsWith(`:parameter${name}`)),
  );
}

/**
 * Every route is authenticated. Callers are identified by the shared HTTP stack (not an API
 * Gateway authorizer), so "authenticated" means: the route invokes a function of this template,
 * that function has its key table configured (API_KEYS_PARAM naming an SSM parameter its own role
 * may read, or API_KEYS hashes on a never-deployed stage), and the route has no authorizer type
 * that would answer before it. Without the configuration the stack answers every request 500, so
 * a route can never answer unauthenticated; this rule makes that a packaging failure instead. A
 * WebSocket API authenticates once, at `$connect` (`?key=`): its other routes run on a connection
 * that got past it, so only `$connect` is held to this.
 */
export const httpRoutesAuthenticated: Rule = {
  name: 'http-routes-authenticated',
  description: 'every HTTP API route invokes a function with its caller keys configured and readable',
  check(template) {
    const found: Violation[] = [];
    for (const [id, route] of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      if (isWebSocketApi(template, refTarget(props(route).ApiId)) && props(route).RouteKey !== '$connect')
        continue;
      const authorization = props(route).AuthorizationType;
      if (authorization !== undefined && authorization !== 'NONE') {
        found.push(
          violation(
            this.name,
            id,
            `AuthorizationType ${render(authorization)}: callers are identified in the function`,
          ),
        );
      }
      const fnId = routeFunction(template, route);
      const fn = fnId ? template.Resources[fnId] : undefined;
      if (!fn || fn.Type !== 'AWS::Lambda::Function') {
        found.push(violation(this.name, id, 'the route does not invoke a function of this template'));
        continue;
      }
      const variables = variablesOf(fn);
      const parameter = variables.API_KEYS_PARAM;
      if (typeof parameter === 'string' && parameter.startsWith('/')) {
        if (!mayReadParameter(template, fn, parameter))
          found.push(
            violation(this.name, id, `${fnId} may not ssm:GetParameter its API_KEYS_PARAM ${parameter}`),
          );
      } else if (typeof variables.API_KEYS !== 'string' || variables.API_KEYS === '') {
        found.push(violation(this.name, id, `${fnId} has no caller keys (API_KEYS_PARAM or API_KEYS)`));
      }
    }
    return found;
  },
};

/** Every HTTP API stage has a steady rate and a burst limit (API Gateway's own default is the account's). */
export const httpApiThrottled: Rule = {
  name: 'http-api-throttled',
  description: 'every HTTP API has a stage, and every stage throttles its routes (rate and burst)',
  check(template) {
    const found: Violation[] = [];
    const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
    for (const [id] of resourcesOfType(template, 'AWS::ApiGatewayV2::Api')) {
      if (!stages.some(([, stage]) => refTarget(props(stage).ApiId) === id))
        found.push(violation(this.name, id, 'the HTTP API has no stage to throttle'));
    }
    for (const [id, stage] of stages) {
      const settings = props(stage).DefaultRouteSettings;
      const limit = (name: string) => (isObject(settings) ? settings[name] : undefined);
      for (const name of ['ThrottlingRateLimit', 'ThrottlingBurstLimit']) {
        const value = limit(name);
        if (typeof value !== 'number' || !(value > 0))
          found.push(
            violation(
              this.name,
              id,
              `DefaultRouteSettings.${name} is ${render(value) || 'unset'}, not a positive number`,
            ),
          );
      }
    }
    return found;
  },
};

/** Every HTTP API declares CORS, with listed origins only: never `*`, never with credentials. */
export const httpApiCors: Rule = {
  name: 'http-api-cors',
  description: 'every HTTP API declares its CORS configuration, without a wildcard origin or credentials',
  check(template) {
    const found: Violation[] = [];
    for (const [id, api] of resourcesOfType(template, 'AWS::ApiGatewayV2::Api')) {
      // Browsers apply no CORS to WebSocket handshakes, and API Gateway has none to declare there.
      if (props(api).ProtocolType === 'WEBSOCKET') continue;
      const cors = props(api).CorsConfiguration;
      if (!isObject(cors)) {
        found.push(
          violation(this.name, id, 'no CorsConfiguration: browsers on other origins cannot call it'),
        );
        continue;
      }
      if (asArray(cors.AllowOrigins).some((origin) => render(origin).includes('*')))
        found.push(violation(this.name, id, 'AllowOrigins holds a wildcard; list the origins'));
      if (cors.AllowCredentials === true)
        found.push(violation(this.name, id, 'AllowCredentials: keys travel in headers, never cookies'));
    }
    return found;
  },
};

/** Stages whose templates may hold the published development keys; the deploy plugin refuses them. */
export const NEVER_DEPLOYED_STAGES = ['local', 'test'];

/** The README's published development keys: anyone can use them, so no deployed stage may accept them. */
export const DEV_API_KEYS = ['dev-key-alice', 'dev-key-bob', 'dev-key-carol', 'dev-key-olga'];
const DEV_KEY_HASHES = DEV_API_KEYS.map((key) => createHash('sha256').update(key).digest('hex'));

export const noDevKeysOnDeployedStages: Rule = {
  name: 'no-dev-keys-on-deployed-stages',
  description: `the development key hashes appear only in templates of ${NEVER_DEPLOYED_STAGES.join(', ')}`,
  check(template, context) {
    if (context.stage !== undefined && NEVER_DEPLOYED_STAGES.includes(context.stage)) return [];
    const found: Violation[] = [];
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      const text = JSON.stringify(resource);
      const keys = DEV_API_KEYS.filter((_key, i) => text.includes(DEV_KEY_HASHES[i]!));
      if (keys.length > 0)
        found.push(
          violation(
            this.name,
            id,
            `holds the hash of ${keys.join(', ')} on stage ${context.stage ?? '(unknown)'}`,
          ),
        );
    }
    return found;
  },
};

export const RULES: Rule[] = [
  lambdaRuntime,
  baseSettings,
  iamWildcards,
  unusedRoles,
  sqsVisibility,
  reservedConcurrencyReceives,
  batchItemFailures,
  redriveAndRetention,
  dlqAlarms,
  alarmActions,
  logRetention,
  nameLengths,
  noPlainSecrets,
  httpRoutesAuthenticated,
  httpApiThrottled,
  httpApiCors,
  noDevKeysOnDeployedStages,
];

// ---------------------------------------------------------------------------------------------
// Across the stage's templates
// ---------------------------------------------------------------------------------------------

export const DASHBOARD_COVERAGE = 'dashboard-coverage';

/**
 * The stage's dashboard, a resource of the foundation service's template, shows every queue, DLQ
 * and function of every service's template, found by name (a JSON string) in its body. A queue or
 * function added without the dashboard knowing it is a violation.
 */
export function dashboardCoverage(foundation: Template, services: Template[]): Violation[] {
  const dashboards = resourcesOfType(foundation, 'AWS::CloudWatch::Dashboard');
  if (dashboards.length === 0) {
    return [violation(DASHBOARD_COVERAGE, '(template)', 'no AWS::CloudWatch::Dashboard')];
  }
  const body = dashboards.map(([, dashboard]) => render(props(dashboard).DashboardBody)).join('\n');
  const shown = (name: unknown) => typeof name === 'string' && body.includes(JSON.stringify(name));
  const found: Violation[] = [];
  for (const template of services) {
    const dlqs = deadLetterQueues(template);
    for (const [id, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
      const name = props(queue).QueueName;
      const what = dlqs.has(id) ? 'DLQ' : 'queue';
      if (!shown(name))
        found.push(violation(DASHBOARD_COVERAGE, id, `${what} ${render(name)} is not on the dashboard`));
    }
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const name = props(fn).FunctionName;
      if (!shown(name))
        found.push(violation(DASHBOARD_COVERAGE, id, `function ${render(name)} is not on the dashboard`));
    }
  }
  return found;
}

export function checkTemplate(template: Template, context: RuleContext, rules: Rule[] = RULES): Violation[] {
  return rules.flatMap((rule) => rule.check(template, context));
}
