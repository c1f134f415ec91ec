import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CfnResources, ResolvedService } from './services';

export interface Endpoints {
  sqs: string;
  sns: string;
  dynamodb: string;
}

export interface ProvisionOptions {
  services: ResolvedService[];
  endpoints: Endpoints;
  region: string;
  /** Called once per notable event; defaults to silence. */
  log?: (line: string) => void;
}

export interface ProvisionSummary {
  queues: Record<string, string>;
  topics: Record<string, string>;
  tables: string[];
  subscriptions: number;
  skipped: string[];
  /** The account the endpoint put in the ARNs it handed out (fauxqs and LocalStack 000000000000, moto 123456789012). */
  account: string;
  /** ARN of every queue, topic and table created, by logical id: what `!GetAtt X.Arn` / a topic's `!Ref` give on AWS. */
  arns: Record<string, string>;
}

/** The variable that carries a provisioned resource's ARN to functions running locally. */
export const localArnVariable = (logicalId: string) => `OFFLOAD_LOCAL_ARN_${logicalId}`;

/** The environment a locally run function needs to find what was provisioned (see the README). */
export function localArnEnvironment(summary: ProvisionSummary): Record<string, string> {
  return {
    AWS_ACCOUNT_ID: summary.account,
    ...Object.fromEntries(Object.entries(summary.arns).map(([id, arn]) => [localArnVariable(id), arn])),
  };
}

type Attributes = Record<string, string>;
/** Until an endpoint hands out its first ARN, the account most emulators use. */
const DEFAULT_ACCOUNT_ID = '000000000000';
const accountOf = (arn: string) => arn.split(':')[4];

// Queue properties that map 1:1 onto CreateQueue attributes. Encryption settings are left out:
// the emulators store messages in memory and do not implement SSE.
const QUEUE_ATTRIBUTES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'VisibilityTimeout',
];

const TABLE_PROPERTIES = [
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'StreamSpecification',
] as const;

class Unresolved extends Error {}

/**
 * Resolves the CloudFormation intrinsics that resource properties use, against what has been
 * created so far. A reference to something not created yet throws Unresolved so the caller can
 * retry that resource after the others.
 */
function resolver(attributes: Map<string, Record<string, string>>, pseudo: Record<string, string>) {
  const attr = (logicalId: string, name: string) => {
    const value = attributes.get(logicalId)?.[name];
    if (value === undefined) throw new Unresolved(`${logicalId}.${name}`);
    return value;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    if ('Ref' in object) return pseudo[object.Ref as string] ?? attr(object.Ref as string, 'Ref');
    if ('Fn::GetAtt' in object) {
      const [logicalId, name] = object['Fn::GetAtt'] as [string, string];
      return attr(logicalId, name);
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return (resolve(parts) as unknown[]).join(separator);
    }
    if ('Fn::Sub' in object) {
      const template = object['Fn::Sub'] as string;
      return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (pseudo[name]) return pseudo[name];
        const [logicalId, attribute] = name.split('.');
        return attr(logicalId!, attribute ?? 'Ref');
      });
    }
    return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolve(inner)]));
  };
  return resolve;
}

const asString = (value: unknown) => (typeof value === 'object' ? JSON.stringify(value) : String(value));

/**
 * Creates on an emulator (or LocalStack) every queue, topic, subscription and table the services
 * declare in their serverless.yml resources. Idempotent: existing resources are left as they are.
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionSummary> {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const sqs = new SQSClient({
    endpoint: options.endpoints.sqs,
    region: options.region,
    credentials,
    useQueueUrlAsEndpoint: false,
  });
  const sns = new SNSClient({ endpoint: options.endpoints.sns, region: options.region, credentials });
  const dynamodb = new DynamoDBClient({
    endpoint: options.endpoints.dynamodb,
    region: options.region,
    credentials,
  });
  const log = options.log ?? (() => undefined);
  const summary: ProvisionSummary = {
    queues: {},
    topics: {},
    tables: [],
    subscriptions: 0,
    skipped: [],
    account: DEFAULT_ACCOUNT_ID,
    arns: {},
  };
  const created = new Map<string, Record<string, string>>();
  // The account is whatever the endpoint's ARNs say, so references built with ${AWS::AccountId}
  // and table ARNs match what it actually created, on any emulator.
  const pseudo: Record<string, string> = {
    'AWS::Region': options.region,
    'AWS::AccountId': DEFAULT_ACCOUNT_ID,
    'AWS::Partition': 'aws',
  };
  let accountSeen = false;
  const noteArn = (logicalId: string, arn: string) => {
    summary.arns[logicalId] = arn;
    const account = accountOf(arn);
    if (!accountSeen && account) {
      accountSeen = true;
      summary.account = pseudo['AWS::AccountId'] = account;
    }
  };
  const resolve = resolver(created, pseudo);
  let ttlRefused = false;

  const creators: Record<string, (logicalId: string, props: Record<string, unknown>) => Promise<void>> = {
    'AWS::SQS::Queue': async (logicalId, props) => {
      const name = String(props.QueueName ?? logicalId);
      const attributes: Attributes = {};
      for (const key of QUEUE_ATTRIBUTES)
        if (props[key] !== undefined) attributes[key] = asString(props[key]);
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn ?? `arn:aws:sqs:${options.region}:${summary.account}:${name}`;
      created.set(logicalId, { Ref: QueueUrl!, QueueUrl: QueueUrl!, Arn: arn, QueueName: name });
      noteArn(logicalId, arn);
      summary.queues[name] = QueueUrl!;
    },
    'AWS::SNS::Topic': async (logicalId, props) => {
      const name = String(props.TopicName ?? logicalId);
      const attributes: Attributes = {};
      for (const key of ['FifoTopic', 'ContentBasedDeduplication']) {
        if (props[key] !== undefined) attributes[key] = asString(props[key]);
      }
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
      created.set(logicalId, { Ref: TopicArn!, TopicArn: TopicArn!, TopicName: name });
      noteArn(logicalId, TopicArn!);
      summary.topics[name] = TopicArn!;
    },
    'AWS::SNS::Subscription': async (logicalId, props) => {
      const attributes: Attributes = {};
      for (const key of ['RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy']) {
        if (props[key] !== undefined) attributes[key] = asString(props[key]);
      }
      const { SubscriptionArn } = await sns.send(
        new SubscribeCommand({
          TopicArn: String(props.TopicArn),
          Protocol: String(props.Protocol),
          Endpoint: String(props.Endpoint),
          Attributes: attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      created.set(logicalId, { Ref: SubscriptionArn ?? logicalId });
      summary.subscriptions += 1;
    },
    'AWS::DynamoDB::Table': async (logicalId, props) => {
      const input = Object.fromEntries(
        TABLE_PROPERTIES.filter((key) => props[key] !== undefined).map((key) => [key, props[key]]),
      ) as unknown as CreateTableCommandInput;
      const name = String(input.TableName ?? logicalId);
      try {
        await dynamodb.send(new CreateTableCommand({ ...input, TableName: name }));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      const ttl = props.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
      if (ttl && !ttlRefused) {
        try {
          await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: ttl }));
        } catch (error) {
          ttlRefused = true;
          log(
            `TTL is not supported by this DynamoDB endpoint (${(error as Error).name}); expiry is skipped locally`,
          );
        }
      }
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
      const arn = Table?.TableArn ?? `arn:aws:dynamodb:${options.region}:${summary.account}:table/${name}`;
      created.set(logicalId, { Ref: name, Arn: arn });
      noteArn(logicalId, arn);
      summary.tables.push(name);
    },
  };

  const pending: [string, string, Record<string, unknown>][] = [];
  for (const { resources } of options.services) {
    for (const [logicalId, resource] of Object.entries(resources as CfnResources)) {
      // Conditional resources (e.g. the alarm email subscription) exist only where CloudFormation
      // evaluates their condition; none of them is needed to run the functions locally.
      if (resource.Condition) summary.skipped.push(`${logicalId} (${resource.Type}, conditional)`);
      else if (creators[resource.Type]) pending.push([logicalId, resource.Type, resource.Properties ?? {}]);
      else summary.skipped.push(`${logicalId} (${resource.Type})`);
    }
  }

  // Dependency order falls out of retrying: a DLQ is created before the queue whose RedrivePolicy
  // names it, a topic before its subscriptions.
  while (pending.length > 0) {
    const before = pending.length;
    for (const entry of [...pending]) {
      const [logicalId, type, props] = entry;
      let resolved: Record<string, unknown>;
      try {
        resolved = resolve(props) as Record<string, unknown>;
      } catch (error) {
        if (error instanceof Unresolved) continue;
        throw error;
      }
      await creators[type]!(logicalId, resolved);
      pending.splice(pending.indexOf(entry), 1);
    }
    if (pending.length === before) {
      throw new Error(`Cannot resolve references of: ${pending.map(([id]) => id).join(', ')}`);
    }
  }
  return summary;
}
