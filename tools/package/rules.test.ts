import {
  alarmActions,
  baseSettings,
  batchItemFailures,
  checkTemplate,
  dashboardCoverage,
  dlqAlarms,
  iamWildcards,
  lambdaRuntime,
  logRetention,
  nameLengths,
  noPlainSecrets,
  redriveAndRetention,
  reservedConcurrencyReceives,
  resolveString,
  sqsVisibility,
  unusedRoles,
  type CfnResource,
  type Template,
} from './rules';

// Each rule is shown failing on a small hand-made fragment, and passing on the good version of it,
// so a green run on the real templates means something.
const context = { region: 'us-east-1' };
const sub = (value: string) => ({ 'Fn::Sub': value });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

function template(resources: Record<string, CfnResource>): Template {
  return { Resources: resources };
}

function fn(name: string, properties: Record<string, unknown> = {}): CfnResource {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: { FunctionName: name, Timeout: 30, Role: getAtt('WorkerRole', 'Arn'), ...properties },
  };
}

function role(statements: Record<string, unknown>[], roleName?: unknown): CfnResource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleName,
      Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

const logStatement = (functionName: string) => ({
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents'],
  Resource: [
    sub(
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*:*`,
    ),
  ],
});

const parameterArn = sub(
  'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/offload/dev/key',
);
const decryptStatement = (condition: Record<string, unknown>) => ({
  Effect: 'Allow',
  Action: ['kms:Decrypt'],
  Resource: sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*'),
  Condition: { StringEquals: condition },
});

describe('iam-wildcards', () => {
  const withStatements = (...statements: Record<string, unknown>[]) =>
    template({ Worker: fn('svc-dev-worker'), WorkerRole: role(statements) });

  it('flags a `*` action', () => {
    const violations = iamWildcards.check(
      withStatements({ Effect: 'Allow', Action: 'sqs:*', Resource: getAtt('Queue', 'Arn') }),
      context,
    );
    expect(violations).toEqual([
      expect.objectContaining({
        resource: 'WorkerRole',
        message: expect.stringContaining('wildcard action sqs:*'),
      }),
    ]);
  });

  it('flags a `*` resource, plain or inside Fn::Sub / Fn::Join', () => {
    const violations = iamWildcards.check(
      withStatements(
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' },
        { Effect: 'Allow', Action: 'dynamodb:Query', Resource: sub('${Table.Arn}/index/*') },
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', ['arn:aws:s3:::', { Ref: 'Bucket' }, '/*']] },
        },
      ),
      context,
    );
    expect(violations).toHaveLength(3);
  });

  it('flags NotAction, NotResource and an unconditioned `*` principal', () => {
    const violations = iamWildcards.check(
      template({
        Policy: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: {
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', NotAction: 'iam:*', Resource: getAtt('Queue', 'Arn') },
                { Effect: 'Allow', Action: 'sqs:SendMessage', NotResource: getAtt('Queue', 'Arn') },
                {
                  Effect: 'Allow',
                  Principal: '*',
                  Action: 'sqs:SendMessage',
                  Resource: getAtt('Queue', 'Arn'),
                },
              ],
            },
          },
        },
      }),
      context,
    );
    expect(violations.map((v) => v.message.split(' in ')[0])).toEqual([
      'uses NotAction (allows every other action)',
      'uses NotResource (allows every other resource)',
      'allows any principal without a condition',
    ]);
  });

  it("accepts the log-stream wildcard only on a function's own log group", () => {
    expect(iamWildcards.check(withStatements(logStatement('svc-dev-worker')), context)).toEqual([]);
    // The framework's default role: a prefix wildcard over every function of the service.
    expect(iamWildcards.check(withStatements(logStatement('svc-dev*')), context)).toHaveLength(1);
    // Another function's group (not in this template).
    expect(iamWildcards.check(withStatements(logStatement('other-dev-fn')), context)).toHaveLength(1);
  });

  it('accepts the X-Ray write actions on `*` and nothing more beside them', () => {
    const xray = {
      Effect: 'Allow',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Resource: '*',
    };
    const widened = { ...xray, Action: [...xray.Action, 'xray:GetTraceSummaries'] };
    const violations = iamWildcards.check(template({ WorkerRole: role([xray, widened]) }), context);
    expect(violations).toHaveLength(1);
    expect(violations[0]!.message).toContain('xray:GetTraceSummaries');
  });

  it('accepts kms:Decrypt on key/* only with both SSM conditions', () => {
    const viaService = { 'kms:ViaService': sub('ssm.${AWS::Region}.amazonaws.com') };
    const parameter = { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn };
    expect(
      iamWildcards.check(withStatements(decryptStatement({ ...viaService, ...parameter })), context),
    ).toEqual([]);
    expect(iamWildcards.check(withStatements(decryptStatement(viaService)), context)).toHaveLength(1);
    expect(iamWildcards.check(withStatements(decryptStatement(parameter)), context)).toHaveLength(1);
  });

  it('accepts ManageConnections on @connections/* of one WebSocket API of the template only', () => {
    const manage = (resource: string) => ({
      Effect: 'Allow',
      Action: ['execute-api:ManageConnections'],
      Resource: sub(resource),
    });
    const withApi = (statement: Record<string, unknown>) =>
      template({ WebsocketsApi: { Type: 'AWS::ApiGatewayV2::Api' }, WorkerRole: role([statement]) });
    const arn = 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebsocketsApi}';
    expect(iamWildcards.check(withApi(manage(`${arn}/dev/POST/@connections/*`)), context)).toEqual([]);
    expect(iamWildcards.check(withApi(manage(`${arn}/*/POST/@connections/*`)), context)).not.toEqual([]);
    expect(iamWildcards.check(withApi(manage(`${arn}/dev/*`)), context)).not.toEqual([]);
    expect(
      iamWildcards.check(
        withApi({ ...manage(`${arn}/dev/POST/@connections/*`), Action: 'execute-api:*' }),
        context,
      ),
    ).not.toEqual([]);
    expect(iamWildcards.check(withStatements(manage(`${arn}/dev/POST/@connections/*`)), context)).not.toEqual(
      [],
    );
  });

  it('ignores Deny statements (a wildcard there only narrows access)', () => {
    const denyInsecure = { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' };
    expect(iamWildcards.check(withStatements(denyInsecure), context)).toEqual([]);
  });
});

describe('unused-roles', () => {
  it('flags a role nothing uses and accepts one a function uses', () => {
    const resources = {
      Worker: fn('svc-dev-worker'),
      WorkerRole: role([]),
      IamRoleLambdaExecution: role([]),
    };
    expect(unusedRoles.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'IamRoleLambdaExecution' }),
    ]);
  });
});

const queue = (properties: Record<string, unknown>): CfnResource => ({
  Type: 'AWS::SQS::Queue',
  Properties: properties,
});
const mapping = (queueId: string, properties: Record<string, unknown> = {}): CfnResource => ({
  Type: 'AWS::Lambda::EventSourceMapping',
  Properties: {
    EventSourceArn: getAtt(queueId, 'Arn'),
    FunctionName: getAtt('Worker', 'Arn'),
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    ...properties,
  },
});

describe('sqs-visibility', () => {
  it("flags a queue whose visibility is under 6x the function's timeout", () => {
    const resources = {
      Worker: fn('w', { Timeout: 30 }),
      Queue: queue({ VisibilityTimeout: 179 }),
      Map: mapping('Queue'),
    };
    expect(sqsVisibility.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'Map', message: expect.stringContaining('needs >= 180s') }),
    ]);
    resources.Queue = queue({ VisibilityTimeout: 180 });
    expect(sqsVisibility.check(template(resources), context)).toEqual([]);
  });

  it("uses SQS's 30 s default when VisibilityTimeout is not set", () => {
    const resources = { Worker: fn('w', { Timeout: 6 }), Queue: queue({}), Map: mapping('Queue') };
    expect(sqsVisibility.check(template(resources), context)).toHaveLength(1);
  });

  it('flags an SQS source it cannot resolve', () => {
    const resources = {
      Worker: fn('w'),
      Map: mapping('Queue', { EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:elsewhere' }),
    };
    expect(sqsVisibility.check(template(resources), context)).toHaveLength(1);
  });
});

describe('reserved-concurrency-receives', () => {
  const redrive = (maxReceiveCount: number) => ({
    RedrivePolicy: { deadLetterTargetArn: getAtt('Dlq', 'Arn'), maxReceiveCount },
  });

  it('flags a queue with maxReceiveCount under 5 read by a function with reserved concurrency', () => {
    const resources = {
      Worker: fn('w', { ReservedConcurrentExecutions: 5 }),
      Queue: queue(redrive(3)),
      Map: mapping('Queue'),
    };
    expect(reservedConcurrencyReceives.check(template(resources), context)).toEqual([
      expect.objectContaining({
        resource: 'Map',
        message: expect.stringContaining('maxReceiveCount 3 is under 5'),
      }),
    ]);
    resources.Queue = queue(redrive(5));
    expect(reservedConcurrencyReceives.check(template(resources), context)).toEqual([]);
  });

  it('leaves a function without reserved concurrency alone', () => {
    const resources = { Worker: fn('w'), Queue: queue(redrive(3)), Map: mapping('Queue') };
    expect(reservedConcurrencyReceives.check(template(resources), context)).toEqual([]);
  });
});

describe('batch-item-failures', () => {
  it('flags an SQS mapping without ReportBatchItemFailures', () => {
    const resources = {
      Worker: fn('w'),
      Queue: queue({ VisibilityTimeout: 180 }),
      Map: mapping('Queue', { FunctionResponseTypes: undefined }),
      Good: mapping('Queue'),
    };
    expect(batchItemFailures.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'Map' }),
    ]);
  });
});

describe('redrive-and-retention', () => {
  const redrive = (dlq: string, maxReceiveCount?: number) => ({
    deadLetterTargetArn: getAtt(dlq, 'Arn'),
    ...(maxReceiveCount !== undefined && { maxReceiveCount }),
  });

  it('flags a queue without a RedrivePolicy, or without maxReceiveCount', () => {
    const resources = {
      Plain: queue({}),
      NoCount: queue({ RedrivePolicy: redrive('Dlq') }),
      Good: queue({ RedrivePolicy: redrive('Dlq', 3) }),
      Dlq: queue({ MessageRetentionPeriod: 1209600 }),
    };
    expect(redriveAndRetention.check(template(resources), context).map((v) => v.resource)).toEqual([
      'Plain',
      'NoCount',
    ]);
  });

  it('treats an SNS subscription’s redrive target as a DLQ (14 days, no redrive of its own)', () => {
    const resources = {
      Subscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: { RedrivePolicy: { deadLetterTargetArn: getAtt('DeliveryDlq', 'Arn') } },
      },
      DeliveryDlq: queue({ MessageRetentionPeriod: 345600 }),
    };
    expect(redriveAndRetention.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'DeliveryDlq', message: expect.stringContaining('retention') }),
    ]);
    resources.DeliveryDlq = queue({ MessageRetentionPeriod: 1209600 });
    expect(redriveAndRetention.check(template(resources), context)).toEqual([]);
  });

  it('flags a DLQ that keeps messages less than 14 days (default 4 days included)', () => {
    const resources = {
      Queue: queue({ RedrivePolicy: redrive('Dlq', 3) }),
      Other: queue({
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: getAtt('Dlq2', 'Arn'), maxReceiveCount: 3 }),
      }),
      Dlq: queue({ MessageRetentionPeriod: 345600 }),
      Dlq2: queue({}),
    };
    expect(redriveAndRetention.check(template(resources), context).map((v) => v.resource)).toEqual([
      'Dlq',
      'Dlq2',
    ]);
  });
});

const alarm = (properties: Record<string, unknown>): CfnResource => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    AlarmActions: [{ Ref: 'Topic' }],
    ...properties,
  },
});

describe('dlq-alarms', () => {
  const base = {
    Queue: queue({ RedrivePolicy: { deadLetterTargetArn: getAtt('Dlq', 'Arn'), maxReceiveCount: 3 } }),
    Dlq: queue({ QueueName: 'svc-dev-dlq', MessageRetentionPeriod: 1209600 }),
  };

  it('flags a DLQ without a depth alarm (an alarm on another queue or metric does not count)', () => {
    const resources = {
      ...base,
      OnQueue: alarm({ Dimensions: [{ Name: 'QueueName', Value: getAtt('Queue', 'QueueName') }] }),
      AgeOfDlq: alarm({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: getAtt('Dlq', 'QueueName') }],
      }),
    };
    expect(dlqAlarms.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'Dlq' }),
    ]);
  });

  it('accepts a depth alarm naming the DLQ by GetAtt or by its literal name', () => {
    for (const value of [getAtt('Dlq', 'QueueName'), 'svc-dev-dlq']) {
      const resources = { ...base, Depth: alarm({ Dimensions: [{ Name: 'QueueName', Value: value }] }) };
      expect(dlqAlarms.check(template(resources), context)).toEqual([]);
    }
  });
});

describe('alarm-actions', () => {
  it('flags an alarm that notifies no one; accepts a list or a conditional action', () => {
    const resources = {
      Silent: alarm({ AlarmActions: undefined }),
      Empty: alarm({ AlarmActions: [] }),
      Listed: alarm({}),
      Conditional: alarm({ AlarmActions: { 'Fn::If': ['HasAlarmTopic', ['arn'], { Ref: 'AWS::NoValue' }] } }),
    };
    expect(alarmActions.check(template(resources), context).map((v) => v.resource)).toEqual([
      'Silent',
      'Empty',
    ]);
  });
});

describe('lambda-runtime', () => {
  it('flags a function on a runtime AWS no longer creates or updates, accepts nodejs24.x', () => {
    const resources = {
      Old: fn('svc-dev-old', { Runtime: 'nodejs20.x' }),
      Missing: fn('svc-dev-missing'),
      Current: fn('svc-dev-current', { Runtime: 'nodejs24.x' }),
    };
    expect(lambdaRuntime.check(template(resources), context).map((v) => v.resource)).toEqual([
      'Old',
      'Missing',
    ]);
  });
});

describe('base-settings', () => {
  const base = { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'svc', STAGE: 'dev' };

  it('flags a function without active tracing or without the base environment', () => {
    const resources = {
      Good: fn('svc-dev-good', { TracingConfig: { Mode: 'Active' }, Environment: { Variables: base } }),
      PassThrough: fn('svc-dev-pass', {
        TracingConfig: { Mode: 'PassThrough' },
        Environment: { Variables: base },
      }),
      NoStage: fn('svc-dev-nostage', {
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: { NODE_OPTIONS: 'x', POWERTOOLS_SERVICE_NAME: 'svc' } },
      }),
    };
    const violations = baseSettings.check(template(resources), context);
    expect(violations.map((v) => [v.resource, v.message])).toEqual([
      ['PassThrough', 'function has no active X-Ray tracing'],
      ['NoStage', 'function lacks base environment STAGE'],
    ]);
  });
});

describe('log-retention', () => {
  const group = (name: string, retention?: number): CfnResource => ({
    Type: 'AWS::Logs::LogGroup',
    Properties: { LogGroupName: name, RetentionInDays: retention },
  });

  it('flags a log group without RetentionInDays', () => {
    const resources = { Worker: fn('svc-dev-worker'), WorkerLogGroup: group('/aws/lambda/svc-dev-worker') };
    expect(logRetention.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'WorkerLogGroup' }),
    ]);
  });

  it('flags a function whose log group is not in the template (Lambda would keep its logs forever)', () => {
    const resources = { Worker: fn('svc-dev-worker'), Other: group('/aws/lambda/svc-dev-other', 14) };
    expect(logRetention.check(template(resources), context)).toEqual([
      expect.objectContaining({ resource: 'Worker' }),
    ]);
  });
});

describe('name-lengths', () => {
  const region = { Ref: 'AWS::Region' };

  it('flags a function name over 64 characters', () => {
    const resources = { Worker: fn(`svc-dev-${'x'.repeat(57)}`) };
    expect(nameLengths.check(template(resources), context)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('has 65 characters') }),
    ]);
  });

  it('computes Fn::Join role names with the packaged region', () => {
    const name = {
      'Fn::Join': ['-', ['offload-podcast-workers', 'prod', 'podcastSchedulerApi', region, 'lambdaRole']],
    };
    expect(resolveString(name, context)).toBe(
      'offload-podcast-workers-prod-podcastSchedulerApi-us-east-1-lambdaRole',
    );
    expect(nameLengths.check(template({ R: role([], name) }), context)).toEqual([
      expect.objectContaining({ resource: 'R', message: expect.stringContaining('has 69 characters') }),
    ]);
    const short = { 'Fn::Join': ['-', ['offload-task-api', 'dev', 'getTask', region, 'lambdaRole']] };
    expect(nameLengths.check(template({ R: role([], short) }), context)).toEqual([]);
  });

  it('projects role names into the longest region, dropping lambdaRole as the plugin does', () => {
    // 63 characters in us-east-1; 68 in ap-southeast-2, where the plugin drops 'lambdaRole' (57).
    const fits = {
      'Fn::Join': ['-', ['offload-podcast-workers', 'dev', 'episodeChecker', region, 'lambdaRole']],
    };
    expect(nameLengths.check(template({ R: role([], fits) }), context)).toEqual([]);
    // Exactly 64 in us-east-1 (the plugin already dropped 'lambdaRole'), 69 in ap-southeast-2.
    const long = {
      'Fn::Join': ['-', ['offload-podcast-workers', 'staging-eu', 'podcastSchedulerApi', region]],
    };
    expect(nameLengths.check(template({ R: role([], long) }), context)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('has 69 characters in ap-southeast-2') }),
    ]);
  });

  it('adds the slack of a longer deployed stage name', () => {
    const worker = template({ Worker: fn(`svc-dev-${'x'.repeat(56)}`) }); // 64 characters
    expect(nameLengths.check(worker, context)).toEqual([]);
    expect(nameLengths.check(worker, { ...context, nameSlack: 1 })).toHaveLength(1);
  });

  it('flags a name it cannot compute from the template', () => {
    const name = { 'Fn::Join': ['-', ['svc', { Ref: 'SomeParameter' }]] };
    expect(nameLengths.check(template({ R: role([], name) }), context)).toHaveLength(1);
  });
});

describe('no-plain-secrets', () => {
  const withEnv = (variables: Record<string, unknown>) =>
    template({ Worker: fn('svc-dev-worker', { Environment: { Variables: variables } }) });

  it('flags literal values of secret-named variables', () => {
    const violations = noPlainSecrets.check(
      withEnv({
        OPENAI_API_KEY: 'sk-live-123',
        DB_PASSWORD: 'hunter2',
        GITHUB_TOKEN: 'ghp_x',
        SIGNING_SECRET: 's',
      }),
      context,
    );
    expect(violations.map((v) => v.message.split(' ')[0])).toEqual([
      'OPENAI_API_KEY',
      'DB_PASSWORD',
      'GITHUB_TOKEN',
      'SIGNING_SECRET',
    ]);
  });

  it('accepts references: SSM parameter names, intrinsics, dynamic references, empty values', () => {
    const violations = noPlainSecrets.check(
      withEnv({
        OPENAI_API_KEY_PARAM: '/offload/dev/openai-api-key',
        SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing',
        TOKEN_TABLE: { Ref: 'Table' },
        OTHER_TOKEN: '{{resolve:ssm:/offload/dev/token}}',
        OPENAI_API_KEY: '',
        STAGE: 'dev',
      }),
      context,
    );
    expect(violations).toEqual([]);
  });

  it('accepts API_KEYS only as sha256 digests, never as a raw key', () => {
    const digest = `${'a'.repeat(64)}:alice:free`;
    expect(
      noPlainSecrets.check(withEnv({ API_KEYS: `${digest},${'b'.repeat(64)}:bob:paid` }), context),
    ).toEqual([]);
    expect(noPlainSecrets.check(withEnv({ API_KEYS: 'dev-key-alice:alice:free' }), context)).toHaveLength(1);
  });

  it('accepts OPENAI_MAX_TOKENS only as a number', () => {
    expect(noPlainSecrets.check(withEnv({ OPENAI_MAX_TOKENS: '1024' }), context)).toEqual([]);
    expect(noPlainSecrets.check(withEnv({ OPENAI_MAX_TOKENS: 'sk-live-123' }), context)).toHaveLength(1);
  });

  it('does not take a pointer-named variable holding a raw value as a reference', () => {
    expect(noPlainSecrets.check(withEnv({ OPENAI_API_KEY_PARAM: 'sk-live-123' }), context)).toHaveLength(1);
  });
});

describe('dashboard-coverage', () => {
  const service = template({
    Worker: fn('svc-dev-worker'),
    Queue: queue({
      QueueName: 'svc-dev-work',
      RedrivePolicy: { deadLetterTargetArn: getAtt('Dlq', 'Arn'), maxReceiveCount: 3 },
    }),
    Dlq: queue({ QueueName: 'svc-dev-work-dlq', MessageRetentionPeriod: 1209600 }),
  });
  const foundation = (...names: string[]) =>
    template({
      Dashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: 'offload-dev',
          DashboardBody: sub(
            JSON.stringify({
              widgets: [{ type: 'metric', properties: { region: '${AWS::Region}', metrics: names } }],
            }),
          ),
        },
      },
    });

  it('flags a DLQ, queue or function of any service missing from the dashboard body', () => {
    // 'svc-dev-work' is a prefix of the DLQ's name, which must not count as showing the DLQ.
    const violations = dashboardCoverage(foundation('svc-dev-work'), [foundation(), service]);
    expect(violations.map((v) => v.message)).toEqual([
      'DLQ svc-dev-work-dlq is not on the dashboard',
      'function svc-dev-worker is not on the dashboard',
    ]);
  });

  it('flags a foundation template without a dashboard', () => {
    expect(dashboardCoverage(template({}), [service])).toEqual([
      expect.objectContaining({ message: 'no AWS::CloudWatch::Dashboard' }),
    ]);
  });

  it('accepts a dashboard naming every queue, DLQ and function', () => {
    const all = foundation('svc-dev-work', 'svc-dev-work-dlq', 'svc-dev-worker');
    expect(dashboardCoverage(all, [all, service])).toEqual([]);
  });
});

describe('checkTemplate', () => {
  it('runs every rule and collects their violations', () => {
    const violations = checkTemplate(
      template({
        Worker: fn('svc-dev-worker'),
        WorkerRole: role([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
      }),
      context,
    );
    expect(new Set(violations.map((v) => v.rule))).toEqual(
      new Set(['iam-wildcards', 'log-retention', 'lambda-runtime', 'base-settings']),
    );
  });
});
