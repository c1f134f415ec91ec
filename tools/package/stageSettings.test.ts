import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../local-stack/services';

type Settings = Record<string, unknown>;
const stageSettings = createRequire(__filename)(path.join(ROOT, 'serverless/stage.cjs')) as (source: {
  resolveVariable: (address: string) => Promise<unknown>;
}) => Promise<Settings>;

const at = (stage: string) =>
  stageSettings({
    resolveVariable: async (address) =>
      ({ 'sls:stage': stage, 'self:provider.region': 'eu-west-1' })[address] ?? null,
  });

describe('the stage settings every service shares (serverless/stage.cjs)', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env.OFFLOAD_CORS_ORIGINS;
    delete process.env.OFFLOAD_LOCAL_CORS_ORIGINS;
    delete process.env.OFFLOAD_LOCAL_ARN_EventsTopic;
  });
  afterAll(() => {
    process.env = saved;
  });

  it('reads caller keys from SSM on a deployed stage, and keeps logs 30 days in prod only', async () => {
    const prod = await at('prod');
    expect(prod).toMatchObject({
      apiKeysParam: '/offload/prod/api-keys',
      apiKeys: '',
      corsOrigins: '',
      logRetentionDays: 30,
      openaiApiKeyParam: '/offload/prod/openai-api-key',
      eventsTopicArn: {
        'Fn::Sub':
          'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:offload-live-updates-prod-events',
      },
    });
    expect((await at('dev')).logRetentionDays).toBe(14);
  });

  it('carries the development keys inline and the local page origin on never-deployed stages', async () => {
    const test = await at('test');
    expect(test.apiKeysParam).toBe('');
    expect(
      String(test.apiKeys)
        .split(',')
        .map((entry) => entry.split(':')[1]),
    ).toEqual(['alice', 'bob', 'carol', 'olga']);
    expect(test.corsOrigins).toBe('http://localhost:3090');
    expect(test.eventsTopicArn).toBe('arn:aws:sns:eu-west-1:000000000000:offload-live-updates-test-events');
  });

  it('takes origins and the local events topic from the environment where set', async () => {
    process.env.OFFLOAD_CORS_ORIGINS = 'https://app.example';
    process.env.OFFLOAD_LOCAL_CORS_ORIGINS = 'http://localhost:24090';
    process.env.OFFLOAD_LOCAL_ARN_EventsTopic = 'arn:aws:sns:us-east-1:111111111111:events';
    expect((await at('prod')).corsOrigins).toBe('https://app.example');
    const local = await at('local');
    expect(local.corsOrigins).toBe('http://localhost:24090');
    expect(local.eventsTopicArn).toBe('arn:aws:sns:us-east-1:111111111111:events');
  });
});
