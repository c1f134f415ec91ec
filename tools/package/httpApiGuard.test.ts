import path from 'node:path';

// The plugin that wires caller keys, CORS origins and throttling into every HTTP function and
// refuses to deploy the stages that carry the published development keys.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const HttpApiGuard = require(path.join(__dirname, '..', '..', 'serverless', 'plugins', 'http-api-guard.cjs'));

class FrameworkError extends Error {}

function fakeServerless(stage: string, http: Record<string, unknown>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a CloudFormation fragment, read loosely
  const resources: Record<string, any> = {
    GetThingLambdaFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: { 'Fn::GetAtt': ['GetThingIamRoleLambdaExecution', 'Arn'] } },
    },
    GetThingIamRoleLambdaExecution: {
      Type: 'AWS::IAM::Role',
      Properties: { Policies: [{ PolicyDocument: { Statement: [] as unknown[] } }] },
    },
    HttpApiStage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { DefaultRouteSettings: { DetailedMetricsEnabled: false } },
    },
  };
  const functions: Record<string, { events: unknown[]; environment?: Record<string, string> }> = {
    getThing: { events: [{ httpApi: { method: 'GET', path: '/things/{id}' } }] },
    worker: { events: [{ sqs: { arn: 'x' } }], environment: { A: '1' } },
  };
  const serverless = {
    classes: { Error: FrameworkError },
    service: {
      custom: { http },
      functions,
      provider: { compiledCloudFormationTemplate: { Resources: resources } },
    },
    getProvider: () => ({
      getStage: () => stage,
      naming: {
        getLambdaLogicalId: (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`,
      },
    }),
  };
  return { plugin: new HttpApiGuard(serverless, {}, {}), functions, resources };
}

const settings = {
  apiKeysParam: '/offload/prod/api-keys',
  apiKeys: '',
  corsOrigins: 'https://app.example',
  throttle: { rateLimit: '50', burstLimit: '100' },
  neverDeployedStages: ['local', 'test'],
};

describe('http-api-guard plugin', () => {
  it('gives HTTP functions, and only them, the key parameter and CORS origins', async () => {
    const { plugin, functions } = fakeServerless('prod', settings);
    await plugin.hooks.initialize();
    expect(functions.getThing!.environment).toEqual({
      API_KEYS_PARAM: '/offload/prod/api-keys',
      CORS_ORIGINS: 'https://app.example',
    });
    expect(functions.worker!.environment).toEqual({ A: '1' });
  });

  it('passes inline hashes where no parameter is named, and refuses a stage with neither', async () => {
    const local = fakeServerless('local', { ...settings, apiKeysParam: '', apiKeys: 'abc:alice:free' });
    await local.plugin.hooks.initialize();
    expect(local.functions.getThing!.environment).toMatchObject({ API_KEYS: 'abc:alice:free' });
    expect(local.functions.getThing!.environment).not.toHaveProperty('API_KEYS_PARAM');
    const none = fakeServerless('dev', { ...settings, apiKeysParam: '', apiKeys: '' });
    expect(() => none.plugin.hooks.initialize()).toThrow(/neither an apiKeysParam nor apiKeys/);
  });

  it("lets each HTTP function's own role read and decrypt that one parameter, and throttles the stage", async () => {
    const { plugin, resources } = fakeServerless('prod', settings);
    await plugin.hooks['before:aws:package:finalize:saveServiceState']();
    const statements =
      resources.GetThingIamRoleLambdaExecution.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: { 'Fn::Sub': expect.stringMatching(/:parameter\/offload\/prod\/api-keys$/) },
      },
      expect.objectContaining({ Action: ['kms:Decrypt'], Condition: expect.any(Object) }),
    ]);
    expect(resources.HttpApiStage.Properties.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
  });

  it.each(['local', 'test'])('refuses to deploy stage %s', (stage) => {
    const { plugin } = fakeServerless(stage, settings);
    expect(() => plugin.hooks['before:deploy:deploy']()).toThrow(FrameworkError);
    expect(() => plugin.hooks['before:deploy:function:initialize']()).toThrow(/never deployed/);
  });

  it('lets other stages deploy', () => {
    const { plugin } = fakeServerless('prod', settings);
    expect(plugin.hooks['before:deploy:deploy']()).toBeUndefined();
  });
});
