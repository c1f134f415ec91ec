import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../local-stack/services';

type Resource = { Type: string; Condition?: string; Properties: Record<string, unknown> };
interface Generated {
  resources: Record<string, Resource>;
  parameters: Record<string, unknown>;
  conditions: Record<string, unknown>;
  functions: Record<
    string,
    {
      events: Record<string, unknown>[];
      statements: Record<string, unknown>[];
      environment: Record<string, string>;
    }
  >;
}
interface Plugin {
  new (serverless: unknown): { hooks: { initialize: () => void } };
  generate(input: {
    service: string;
    stage: string;
    custom: Record<string, unknown>;
    localStages?: string[];
  }): Generated;
}

const DeclaredResources = createRequire(__filename)(
  path.join(ROOT, 'serverless/plugins/declared-resources.cjs'),
) as Plugin;
const { generate } = DeclaredResources;

const service = 'offload-demo';
const names = {
  workQueue: 'offload-demo-dev-work.fifo',
  workDlq: 'offload-demo-dev-work-dlq.fifo',
  urgentQueue: 'offload-demo-dev-urgent.fifo',
  deliveryDlq: 'offload-demo-dev-delivery-dlq',
  itemsTable: 'offload-demo-dev-items',
};
const alarmActions = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };
const sendTo = (id: string) => ({
  Effect: 'Allow',
  Action: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
  Resource: { 'Fn::GetAtt': [id, 'Arn'] },
});

describe('declared queues', () => {
  const generated = generate({
    service,
    stage: 'dev',
    custom: {
      names,
      alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
      queues: {
        Work: {
          fifo: true,
          retentionDays: 4,
          visibility: 300,
          maxReceiveCount: 5,
          consumer: 'processWork',
          producers: ['submitWork'],
          dlqAlarm: 'Work is waiting in the DLQ',
          oldestAlarm: { threshold: 900, description: 'Work has waited 15 minutes' },
          depthAlarm: { threshold: 500, description: 'More than 500 are waiting' },
        },
        Urgent: {
          fifo: true,
          dlq: 'Work',
          visibility: 300,
          maxReceiveCount: 5,
          consumer: { function: 'processUrgent', batchSize: 1, batchWindow: 5 },
        },
      },
    },
  });
  const { resources } = generated;

  it('creates the queue, its DLQ and the redrive between them', () => {
    expect(resources.WorkQueue).toEqual({
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: names.workQueue,
        FifoQueue: true,
        ContentBasedDeduplication: true,
        VisibilityTimeout: 300,
        MessageRetentionPeriod: 4 * 86400,
        ReceiveMessageWaitTimeSeconds: 20,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['WorkDlq', 'Arn'] }, maxReceiveCount: 5 },
      },
    });
    expect(resources.WorkDlq).toEqual({
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: names.workDlq,
        FifoQueue: true,
        ContentBasedDeduplication: true,
        MessageRetentionPeriod: 14 * 86400,
        SqsManagedSseEnabled: true,
      },
    });
  });

  it('lets a queue share another declaration’s DLQ, which it does not create again', () => {
    expect(resources.UrgentQueue?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['WorkDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(resources.UrgentDlq).toBeUndefined();
    expect(resources.UrgentDlqDepthAlarm).toBeUndefined();
  });

  it('gives the consumer its SQS event with partial batch failures and the right to dead-letter', () => {
    expect(generated.functions.processWork).toEqual({
      events: [
        {
          sqs: {
            arn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
            batchSize: 10,
            functionResponseType: 'ReportBatchItemFailures',
          },
        },
      ],
      statements: [sendTo('WorkDlq')],
      // The worker tells its last attempt from the queue's own redrive count.
      environment: { MAX_RECEIVE_COUNT: '5' },
    });
    expect(generated.functions.processUrgent?.events).toEqual([
      {
        sqs: {
          arn: { 'Fn::GetAtt': ['UrgentQueue', 'Arn'] },
          batchSize: 1,
          maximumBatchingWindow: 5,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
    ]);
    expect(generated.functions.processUrgent?.statements).toEqual([sendTo('WorkDlq')]);
  });

  it('lets each producer send to the queue, and nothing else', () => {
    expect(generated.functions.submitWork).toEqual({
      events: [],
      statements: [sendTo('WorkQueue')],
      environment: {},
    });
  });

  it('alarms on DLQ depth, oldest message age and queue depth, to the alarm topic', () => {
    const alarm = (id: string) => resources[id]?.Properties;
    expect(alarm('WorkDlqDepthAlarm')).toEqual({
      AlarmName: 'offload-demo-dev-work-dlq-depth',
      AlarmDescription: 'Work is waiting in the DLQ',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['WorkDlq', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: alarmActions,
    });
    expect(alarm('WorkQueueOldestMessageAlarm')).toMatchObject({
      AlarmName: 'offload-demo-dev-work-oldest-message',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Period: 60,
      EvaluationPeriods: 5,
      Threshold: 900,
    });
    expect(alarm('WorkQueueDepthAlarm')).toMatchObject({
      AlarmName: 'offload-demo-dev-work-queue-depth',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Period: 300,
      Threshold: 500,
    });
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id).sort()).toEqual([
      'WorkDlqDepthAlarm',
      'WorkQueueDepthAlarm',
      'WorkQueueOldestMessageAlarm',
    ]);
  });

  it('declares the alarm topic parameter (defaulting to the given ARN) and its condition', () => {
    expect(generated.parameters).toEqual({
      AlarmTopicArn: {
        Type: 'String',
        Default: 'arn:aws:sns:us-east-1:123456789012:alarms',
        Description: "ARN of the stage's alarm topic (empty for none)",
      },
    });
    expect(generated.conditions).toEqual({
      HasAlarmTopic: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] },
    });
  });

  it('refuses a DLQ without an alarm, and a queue whose name is not declared', () => {
    const queue = { visibility: 30, maxReceiveCount: 3, consumer: 'f' };
    expect(() => generate({ service, stage: 'dev', custom: { names, queues: { Work: queue } } })).toThrow(
      /DLQ alarm needs a description/,
    );
    expect(() =>
      generate({
        service,
        stage: 'dev',
        custom: { names, queues: { Missing: { ...queue, dlqAlarm: 'x' } } },
      }),
    ).toThrow(/custom.names.missingDlq is missing/);
  });
});

describe('declared subscriptions', () => {
  const { resources } = generate({
    service,
    stage: 'dev',
    custom: {
      names,
      queues: {
        Delivery: { deadLetterOnly: true, dlqAlarm: 'SNS gave up on a delivery' },
        Work: {
          visibility: 30,
          maxReceiveCount: 3,
          consumer: 'processWork',
          subscription: {
            topic: 'JobsTopic',
            filterPolicy: { priority: ['normal'] },
            deadLetter: 'Delivery',
          },
          dlqAlarm: 'Work is waiting in the DLQ',
        },
      },
    },
  });

  it('creates only the DLQ (and its alarm) for a dead-letter-only declaration', () => {
    expect(resources.DeliveryDlq?.Properties.QueueName).toBe(names.deliveryDlq);
    expect(resources.DeliveryQueue).toBeUndefined();
    expect(resources.DeliveryDlqDepthAlarm?.Properties.AlarmName).toBe('offload-demo-dev-delivery-dlq-depth');
  });

  it('subscribes the queue to the topic with raw delivery, its filter and its redrive', () => {
    expect(resources.WorkSubscription).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: 'JobsTopic' },
        Protocol: 'sqs',
        Endpoint: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
        RawMessageDelivery: true,
        FilterPolicy: { priority: ['normal'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['DeliveryDlq', 'Arn'] } },
      },
    });
  });

  it('lets only that topic send to the queue and to the delivery DLQ', () => {
    for (const queueId of ['WorkQueue', 'DeliveryDlq']) {
      const policy = resources[`${queueId}Policy`];
      expect(policy?.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy?.Properties.Queues).toEqual([{ Ref: queueId }]);
      const { Statement } = policy?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
      expect(Statement).toHaveLength(1);
      const [only] = Statement;
      expect(only?.Principal).toEqual({ Service: 'sns.amazonaws.com' });
      expect([only?.Effect, only?.Action]).toEqual(['Allow', 'sqs:SendMessage']);
      expect(only?.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
      expect(only?.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': { Ref: 'JobsTopic' } } });
    }
  });
});

describe('declared function alarms', () => {
  const { resources, parameters } = generate({
    service,
    stage: 'prod',
    custom: {
      alarms: {
        PollerErrors: { function: 'pollBatches', description: 'A run failed' },
        PollerDuration: {
          function: 'pollBatches',
          metric: 'Duration',
          threshold: 44000,
          description: 'Slow',
        },
        PollerNotInvoked: {
          function: 'pollBatches',
          metric: 'Invocations',
          period: 300,
          below: true,
          missingData: 'breaching',
          description: 'Not run',
        },
        StaleEpisodes: {
          name: 'stale',
          function: 'episodeChecker',
          metric: 'Offload/StaleEpisodesFailed',
          period: 900,
          description: 'Stale',
        },
        EventsPublishFailed: { metric: 'Offload/EventsPublishFailed', period: 300, description: 'Lost' },
      },
    },
  });
  const alarm = (id: string) => resources[`${id}Alarm`]?.Properties;

  it('watches a Lambda metric of the function by its logical id', () => {
    expect(alarm('PollerErrors')).toMatchObject({
      AlarmName: 'offload-demo-prod-poller-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PollBatchesLambdaFunction' } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: alarmActions,
    });
    expect(alarm('PollerDuration')).toMatchObject({
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: 44000,
    });
    expect(alarm('PollerNotInvoked')).toMatchObject({
      MetricName: 'Invocations',
      Period: 300,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('watches an Offload metric per service, and per function when one is named', () => {
    expect(alarm('StaleEpisodes')).toMatchObject({
      AlarmName: 'offload-demo-prod-stale',
      Namespace: 'Offload',
      MetricName: 'StaleEpisodesFailed',
      Dimensions: [
        { Name: 'service', Value: service },
        { Name: 'function_name', Value: { Ref: 'EpisodeCheckerLambdaFunction' } },
      ],
      Period: 900,
    });
    expect(alarm('EventsPublishFailed')).toMatchObject({
      Namespace: 'Offload',
      Dimensions: [{ Name: 'service', Value: service }],
    });
  });

  it('notifies no one by default (an empty topic parameter)', () => {
    expect(parameters).toMatchObject({ AlarmTopicArn: { Default: '' } });
  });

  it('refuses an alarm that does not say what it means', () => {
    expect(() =>
      generate({ service, stage: 'dev', custom: { alarms: { Quiet: { function: 'f' } } } }),
    ).toThrow(/description/);
  });
});

describe('declared tables', () => {
  const { resources } = generate({
    service,
    stage: 'dev',
    custom: {
      names,
      tables: {
        Items: {
          key: ['job_id', 'item_id'],
          indexes: {
            byOpenJob: ['open_job_id', 'item_id'],
            byCleanup: { key: 'cleanup', projection: 'KEYS_ONLY' },
          },
          ttl: 'expires_at',
        },
      },
    },
  });

  it('creates an on-demand, encrypted, recoverable table with its keys and indexes', () => {
    expect(resources.ItemsTable).toEqual({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: names.itemsTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['job_id', 'item_id', 'open_job_id', 'cleanup'].map((AttributeName) => ({
          AttributeName,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: 'job_id', KeyType: 'HASH' },
          { AttributeName: 'item_id', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byOpenJob',
            KeySchema: [
              { AttributeName: 'open_job_id', KeyType: 'HASH' },
              { AttributeName: 'item_id', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'byCleanup',
            KeySchema: [{ AttributeName: 'cleanup', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  it('leaves point-in-time recovery off only when the declaration says so', () => {
    const { resources: plain } = generate({
      service,
      stage: 'dev',
      custom: { names, tables: { Items: { key: 'pk', pitr: false } } },
    });
    expect(plain.ItemsTable?.Properties).not.toHaveProperty('PointInTimeRecoverySpecification');
    expect(plain.ItemsTable?.Properties).not.toHaveProperty('GlobalSecondaryIndexes');
  });
});

describe('declared SSM parameters', () => {
  const custom = {
    ssmParameters: { OPENAI_API_KEY_PARAM: { name: '/offload/dev/openai-api-key', readers: ['worker'] } },
  };
  const parameterArn = {
    'Fn::Sub':
      'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/offload/dev/openai-api-key',
  };

  it('names the parameter to each reader and lets it read and decrypt that one parameter through SSM', () => {
    const { functions } = generate({ service, stage: 'dev', custom, localStages: ['local', 'test'] });
    expect(functions.worker).toEqual({
      events: [],
      environment: { OPENAI_API_KEY_PARAM: '/offload/dev/openai-api-key' },
      statements: [
        { Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: parameterArn },
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
          Condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
              'kms:EncryptionContext:PARAMETER_ARN': parameterArn,
            },
          },
        },
      ],
    });
  });

  it('leaves the variable empty on never-deployed stages, where the runner passes the secret', () => {
    const { functions } = generate({ service, stage: 'test', custom, localStages: ['local', 'test'] });
    expect(functions.worker?.environment).toEqual({ OPENAI_API_KEY_PARAM: '' });
  });
});

describe('the plugin, at initialize', () => {
  it('puts the generated resources where `serverless print` reads them, and the events on the functions', () => {
    const functions: Record<string, { handler: string; events?: unknown[]; environment?: unknown }> = {
      processWork: { handler: 'src/handlers/processWork.handler' },
    };
    const custom = {
      names,
      tables: { Items: { key: 'pk' } },
      queues: {
        Work: { fifo: true, visibility: 30, maxReceiveCount: 3, consumer: 'processWork', dlqAlarm: 'x' },
      },
    };
    // A service with no resources section of its own.
    const configurationInput: Record<string, unknown> = { service, custom, functions };
    const serverless = {
      configurationInput,
      service: { service, custom, functions },
      classes: { Error },
      getProvider: () => ({
        getStage: () => 'test',
        naming: {
          getLambdaLogicalId: (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`,
        },
      }),
    };
    new DeclaredResources(serverless).hooks.initialize();
    const printed = configurationInput.resources as { Resources: Record<string, Resource> };
    expect(Object.keys(printed.Resources).sort()).toEqual([
      'ItemsTable',
      'WorkDlq',
      'WorkDlqDepthAlarm',
      'WorkQueue',
    ]);
    expect(functions.processWork?.events).toEqual([
      { sqs: expect.objectContaining({ arn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } }) },
    ]);
    expect(functions.processWork?.environment).toEqual({ MAX_RECEIVE_COUNT: '3' });
  });

  it('shares no object with the declaration, so `serverless print` writes no $ref in its place', () => {
    const filterPolicy = { priority: ['normal'] };
    const custom = {
      names,
      queues: {
        Work: {
          visibility: 30,
          maxReceiveCount: 3,
          consumer: 'processWork',
          dlqAlarm: 'x',
          subscription: { topic: 'Topic', filterPolicy },
        },
      },
    };
    const configurationInput: Record<string, unknown> = {
      service,
      custom,
      functions: { processWork: { handler: 'h' } },
    };
    const serverless = {
      configurationInput,
      service: { service, custom, functions: { processWork: { handler: 'h' } } },
      classes: { Error },
      getProvider: () => ({
        getStage: () => 'test',
        naming: { getLambdaLogicalId: (name: string) => `${name}LambdaFunction` },
      }),
    };
    new DeclaredResources(serverless).hooks.initialize();
    const printed = configurationInput.resources as { Resources: Record<string, Resource> };
    const subscription = Object.values(printed.Resources).find((r) => r.Type === 'AWS::SNS::Subscription');
    expect(subscription?.Properties?.FilterPolicy).toEqual(filterPolicy);
    expect(subscription?.Properties?.FilterPolicy).not.toBe(filterPolicy);
  });
});
