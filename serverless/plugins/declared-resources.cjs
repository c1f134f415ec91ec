'use strict';
/* global module */

/**
 * Resources every service would otherwise copy, generated from short declarations in `custom`:
 *
 * - `custom.queues.<Key>`: the queue `<Key>Queue` (name `custom.names.<key>Queue`) and its DLQ
 *   `<Key>Dlq` (`custom.names.<key>Dlq`) with the redrive policy; the consumer's SQS event (partial
 *   batch failures), MAX_RECEIVE_COUNT and its right to send to the DLQ; the producers' right to
 *   send to the queue; alarms on DLQ depth (`dlqAlarm`, required), oldest message age
 *   (`oldestAlarm`) and queue depth (`depthAlarm`).
 *   With `subscription: { topic, filterPolicy, deadLetter }`, the queue's raw-delivery subscription to
 *   that SNS topic (`<Key>Subscription` unless `id` says otherwise), the queue policy letting that
 *   topic send (`<Key>QueuePolicy`), and, for a `deadLetter` declared `deadLetterOnly`, its own.
 * - `custom.tables.<Key>`: the DynamoDB table `<Key>Table` (`custom.names.<key>Table`), on demand and
 *   encrypted, with point-in-time recovery unless `pitr: false`: `key` is the hash key or
 *   [hash, range], `indexes` maps each global secondary index to its key (projection ALL, or
 *   `{ key, projection }`), `ttl` names the expiry attribute. Every key attribute is a string.
 * - `custom.alarms.<Key>`: an alarm `<Key>Alarm` on a function's Lambda metric or on a metric of the
 *   `Offload` namespace (the functions' EMF lines).
 * - `custom.ssmParameters.<VARIABLE>`: the variable naming an SSM SecureString for each reader, and the
 *   reader's right to get that one parameter and decrypt it only through SSM.
 *
 * Every alarm notifies the `AlarmTopicArn` template parameter (default `custom.alarmTopicArn`, the
 * stage's alarm topic from serverless-compose.yml) when it is not empty. It runs at `initialize`, so
 * `serverless print` (the local stack's provisioning), serverless-offline and packaging all see the
 * generated resources, events and variables.
 */

const SEND = ['sqs:GetQueueUrl', 'sqs:SendMessage'];
/** Records per invocation of every consumer unless its declaration says otherwise (deployed and local alike). */
const BATCH_SIZE = 10;
const DAY = 86400;
const ALARM_ACTIONS = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };

const sub = (text) => ({ 'Fn::Sub': text });
const getAtt = (id, attribute) => ({ 'Fn::GetAtt': [id, attribute] });
const lowerFirst = (text) => text.charAt(0).toLowerCase() + text.slice(1);
const kebab = (text) => text.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
/** The framework's logical id of a function (naming.getLambdaLogicalId). */
const lambdaLogicalId = (name) =>
  `${name.charAt(0).toUpperCase()}${name.slice(1).replaceAll('-', 'Dash').replaceAll('_', 'Underscore')}LambdaFunction`;

/** Reading one SSM parameter, and decrypting it only through SSM for that parameter. */
function ssmReadStatements(parameterPath) {
  const path = parameterPath.startsWith('/') ? parameterPath : `/${parameterPath}`;
  const parameterArn = sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${path}`);
  return [
    { Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: parameterArn },
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*'),
      Condition: {
        StringEquals: {
          'kms:ViaService': sub('ssm.${AWS::Region}.amazonaws.com'),
          'kms:EncryptionContext:PARAMETER_ARN': parameterArn,
        },
      },
    },
  ];
}

/**
 * One CloudWatch alarm. `metric` is a Lambda metric of `function` (Errors by default) or
 * `Offload/<Name>`, a metric of the functions' own, per service and (with `function`) per function.
 */
function alarm(service, stage, key, spec, lambdaId) {
  const full = String(spec.metric || 'Errors');
  const slash = full.lastIndexOf('/');
  const [namespace, metric] =
    slash < 0 ? ['AWS/Lambda', full] : [full.slice(0, slash), full.slice(slash + 1)];
  const fnRef = spec.function && { Ref: lambdaId(spec.function) };
  let dimensions = spec.dimensions;
  if (!dimensions && namespace === 'AWS/Lambda') {
    if (!fnRef) throw new Error(`alarm ${key}: a Lambda metric needs its function`);
    dimensions = [{ Name: 'FunctionName', Value: fnRef }];
  } else if (!dimensions) {
    dimensions = [{ Name: 'service', Value: service }];
    if (fnRef) dimensions.push({ Name: 'function_name', Value: fnRef });
  }
  if (!spec.description) throw new Error(`alarm ${key}: say what it means (description)`);
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${service}-${stage}-${spec.name || kebab(key)}`,
      AlarmDescription: spec.description,
      Namespace: namespace,
      MetricName: metric,
      Dimensions: dimensions,
      Statistic: spec.statistic || (metric === 'Duration' ? 'Maximum' : 'Sum'),
      Period: spec.period ?? 60,
      EvaluationPeriods: spec.evaluationPeriods ?? 1,
      Threshold: spec.threshold ?? 1,
      ComparisonOperator: spec.below ? 'LessThanThreshold' : 'GreaterThanOrEqualToThreshold',
      TreatMissingData: spec.missingData || 'notBreaching',
      AlarmActions: ALARM_ACTIONS,
    },
  };
}

/** The queue alarms, on the AWS/SQS metrics of one queue. */
function queueAlarm(queueId, metric, { threshold, period, evaluationPeriods, description, name }) {
  return {
    metric: `AWS/SQS/${metric}`,
    dimensions: [{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }],
    statistic: 'Maximum',
    threshold,
    period,
    evaluationPeriods,
    description,
    name,
  };
}

/** One DynamoDB table from its declaration. */
function table(tableName, { key, indexes = {}, ttl, pitr = true }) {
  const attributes = [];
  const keySchema = (keys) =>
    asList(keys).map((name, i) => {
      if (!attributes.includes(name)) attributes.push(name);
      return { AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' };
    });
  const KeySchema = keySchema(key);
  const GlobalSecondaryIndexes = Object.entries(indexes).map(([IndexName, index]) => {
    const { key: keys, projection = 'ALL' } =
      Array.isArray(index) || typeof index === 'string' ? { key: index } : index;
    return { IndexName, KeySchema: keySchema(keys), Projection: { ProjectionType: projection } };
  });
  return {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributes.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema,
      ...(GlobalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes } : {}),
      ...(ttl ? { TimeToLiveSpecification: { AttributeName: ttl, Enabled: true } } : {}),
      ...(pitr ? { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } } : {}),
      SSESpecification: { SSEEnabled: true },
    },
  };
}

/** The queue's subscription to an SNS topic; `senders` collects which topics may send to which queue. */
function subscribe(out, key, queueId, { topic, filterPolicy, deadLetter, id }, senders) {
  const topicRef = { Ref: topic };
  const allow = (target) => {
    const topics = (senders[target] ??= []);
    if (!topics.some((known) => known.Ref === topic)) topics.push(topicRef);
  };
  out.resources[id || `${key}Subscription`] = {
    Type: 'AWS::SNS::Subscription',
    Properties: {
      TopicArn: topicRef,
      Protocol: 'sqs',
      Endpoint: getAtt(queueId, 'Arn'),
      RawMessageDelivery: true,
      ...(filterPolicy ? { FilterPolicy: filterPolicy } : {}),
      // Deliveries SNS gives up on (queue gone, policy or KMS denied) land here instead of vanishing.
      ...(deadLetter ? { RedrivePolicy: { deadLetterTargetArn: getAtt(`${deadLetter}Dlq`, 'Arn') } } : {}),
    },
  };
  allow(queueId);
  if (deadLetter) allow(`${deadLetter}Dlq`);
}

const asList = (value) => (value == null ? [] : Array.isArray(value) ? value : [value]);
const described = (value) => (typeof value === 'string' ? { description: value } : value || {});

/**
 * Everything the declarations generate, without touching the service: the template's resources,
 * parameters and conditions, and per function the events, role statements and environment to add.
 */
function generate({ service, stage, custom = {}, localStages = [], lambdaId = lambdaLogicalId }) {
  const names = custom.names || {};
  const out = { resources: {}, parameters: {}, conditions: {}, functions: {} };
  const fn = (name) => (out.functions[name] ??= { events: [], statements: [], environment: {} });
  const alarms = {};
  const snsSenders = {};
  const nameOf = (key) => {
    if (!names[key]) throw new Error(`custom.names.${key} is missing (its resource's name)`);
    return names[key];
  };

  for (const [key, spec] of Object.entries(custom.tables || {}))
    out.resources[`${key}Table`] = table(nameOf(`${lowerFirst(key)}Table`), spec);

  for (const [key, queue] of Object.entries(custom.queues || {})) {
    const queueId = `${key}Queue`;
    const ownDlq = !queue.dlq;
    const dlqKey = queue.dlq || key;
    const dlqId = `${dlqKey}Dlq`;
    const fifo = queue.fifo ? { FifoQueue: true, ContentBasedDeduplication: true } : {};
    const stem = queue.alarmName || kebab(key);
    if (ownDlq) {
      out.resources[dlqId] = {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: nameOf(`${lowerFirst(dlqKey)}Dlq`),
          ...fifo,
          MessageRetentionPeriod: 14 * DAY,
          SqsManagedSseEnabled: true,
        },
      };
      const dlqAlarm = described(queue.dlqAlarm);
      if (!dlqAlarm.description) throw new Error(`queue ${key}: its DLQ alarm needs a description`);
      alarms[`${dlqId}DepthAlarm`] = queueAlarm(dlqId, 'ApproximateNumberOfMessagesVisible', {
        ...dlqAlarm,
        name: `${stem}-dlq-depth`,
      });
    }
    // A dead-letter target only (e.g. of SNS subscriptions): no queue of its own.
    if (queue.deadLetterOnly) continue;

    out.resources[queueId] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: nameOf(`${lowerFirst(key)}Queue`),
        ...fifo,
        ...(queue.properties || {}),
        VisibilityTimeout: queue.visibility,
        MessageRetentionPeriod: (queue.retentionDays ?? 14) * DAY,
        ReceiveMessageWaitTimeSeconds: 20,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt(dlqId, 'Arn'), maxReceiveCount: queue.maxReceiveCount },
      },
    };
    const { oldestAlarm: oldest, depthAlarm: depth } = queue;
    if (oldest)
      alarms[`${queueId}OldestMessageAlarm`] = queueAlarm(queueId, 'ApproximateAgeOfOldestMessage', {
        period: 60,
        evaluationPeriods: 5,
        ...oldest,
        name: `${stem}-oldest-message`,
      });
    if (depth)
      alarms[`${queueId}DepthAlarm`] = queueAlarm(queueId, 'ApproximateNumberOfMessagesVisible', {
        period: 300,
        ...depth,
        name: `${stem}-queue-depth`,
      });

    for (const consumer of asList(queue.consumer)) {
      const {
        function: name,
        batchSize = BATCH_SIZE,
        batchWindow,
      } = typeof consumer === 'string' ? { function: consumer } : consumer;
      fn(name).events.push({
        sqs: {
          arn: getAtt(queueId, 'Arn'),
          batchSize,
          ...(batchWindow ? { maximumBatchingWindow: batchWindow } : {}),
          functionResponseType: 'ReportBatchItemFailures',
        },
      });
      // The worker tells its last attempt from the queue's own redrive count.
      fn(name).environment.MAX_RECEIVE_COUNT = String(queue.maxReceiveCount);
      // Poison messages go straight to the DLQ with their reason (the shared SQS stack).
      fn(name).statements.push({ Effect: 'Allow', Action: SEND, Resource: getAtt(dlqId, 'Arn') });
    }
    if (queue.subscription) subscribe(out, key, queueId, queue.subscription, snsSenders);
    for (const name of asList(queue.producers))
      fn(name).statements.push({ Effect: 'Allow', Action: SEND, Resource: getAtt(queueId, 'Arn') });
  }

  for (const [queueId, topics] of Object.entries(snsSenders)) {
    out.resources[`${queueId}Policy`] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: getAtt(queueId, 'Arn'),
              Condition: { ArnEquals: { 'aws:SourceArn': topics.length === 1 ? topics[0] : topics } },
            },
          ],
        },
      },
    };
  }

  for (const [key, spec] of Object.entries(custom.alarms || {})) alarms[`${key}Alarm`] = spec;
  for (const [id, spec] of Object.entries(alarms)) {
    if (out.resources[id]) throw new Error(`${id} is declared twice`);
    out.resources[id] = alarm(service, stage, id.replace(/Alarm$/, ''), spec, lambdaId);
  }
  if (Object.keys(alarms).length > 0) {
    // A template parameter, not a literal, so the template stays valid whether or not a topic is
    // given: without one, alarms change state but have no AlarmActions (an empty ARN is invalid).
    out.parameters.AlarmTopicArn = {
      Type: 'String',
      Default: custom.alarmTopicArn || '',
      Description: "ARN of the stage's alarm topic (empty for none)",
    };
    out.conditions.HasAlarmTopic = { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] };
  }

  for (const [variable, { name, readers }] of Object.entries(custom.ssmParameters || {})) {
    for (const reader of asList(readers)) {
      // Never-deployed stages have no SSM: the runner passes the secret itself.
      fn(reader).environment[variable] = localStages.includes(stage) ? '' : name;
      fn(reader).statements.push(...ssmReadStatements(name));
    }
  }
  return out;
}

// JSON, not structuredClone: structuredClone keeps shared references shared.
const jsonCopy = (value) => JSON.parse(JSON.stringify(value));

class DeclaredResources {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { initialize: () => this.apply() };
  }

  apply() {
    const sls = this.serverless;
    const service = sls.service;
    const custom = service.custom || {};
    const provider = sls.getProvider('aws');
    // A copy: the generated resources must share no object with `custom` (or each other), or
    // `serverless print`, which the local stack provisions from, writes a `$ref` in their place.
    const generated = jsonCopy(
      generate({
        service: service.service,
        stage: provider.getStage(),
        custom,
        localStages: (custom.http && custom.http.neverDeployedStages) || [],
        lambdaId: (name) => provider.naming.getLambdaLogicalId(name),
      }),
    );
    if (!service.resources) {
      // A service with no resources section of its own: `serverless print` (the local stack's
      // provisioning) shows the configuration input, so the generated section goes there too.
      service.resources = {};
      if (sls.configurationInput) sls.configurationInput.resources = service.resources;
    }
    const resources = service.resources;
    for (const section of ['Resources', 'Parameters', 'Conditions']) {
      const entries = generated[section.toLowerCase()];
      for (const id of Object.keys(entries)) {
        if (resources[section] && resources[section][id])
          throw new sls.classes.Error(`${section}.${id} is generated from custom; remove it from resources`);
      }
      if (Object.keys(entries).length > 0) resources[section] = { ...(resources[section] || {}), ...entries };
    }
    for (const [name, { events, statements, environment }] of Object.entries(generated.functions)) {
      const target = (service.functions || {})[name];
      if (!target) throw new sls.classes.Error(`custom declares the function ${name}, which does not exist`);
      target.events = [...(target.events || []), ...events];
      if (statements.length > 0)
        target.iamRoleStatements = [...(target.iamRoleStatements || []), ...statements];
      target.environment = { ...(target.environment || {}), ...environment };
    }
  }
}

module.exports = DeclaredResources;
module.exports.generate = generate;
module.exports.ssmReadStatements = ssmReadStatements;
