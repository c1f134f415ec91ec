import { clientSettings, localEndpoint } from './config';

describe('clientSettings', () => {
  it('uses the SDK default (real AWS) when no endpoint is given anywhere', () => {
    expect(clientSettings({}, {})).toEqual({ endpoint: undefined, region: 'us-east-1' });
  });

  it('reads the standard endpoint variables, the SQS one first', () => {
    expect(clientSettings({}, { AWS_ENDPOINT_URL: 'http://all:1' }).endpoint).toBe('http://all:1');
    expect(
      clientSettings({}, { AWS_ENDPOINT_URL: 'http://all:1', AWS_ENDPOINT_URL_SQS: 'http://sqs:2' }).endpoint,
    ).toBe('http://sqs:2');
  });

  it('lets flags win over the environment: --endpoint, then --local', () => {
    const env = { AWS_ENDPOINT_URL_SQS: 'http://env:1' };
    expect(clientSettings({ local: true }, env).endpoint).toBe('http://127.0.0.1:4566');
    expect(clientSettings({ endpoint: 'http://flag:3', local: true }, env).endpoint).toBe('http://flag:3');
  });

  it('points --local at the port npm start uses', () => {
    expect(localEndpoint({ SQS_PORT: '4999' })).toBe('http://127.0.0.1:4999');
  });

  it('takes the region from the flag, then AWS_REGION', () => {
    expect(clientSettings({}, { AWS_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(clientSettings({ region: 'ap-south-1' }, { AWS_REGION: 'eu-west-1' }).region).toBe('ap-south-1');
  });

  it('adds dummy credentials only for an explicit endpoint with none in the environment', () => {
    expect(clientSettings({ local: true }, {}).credentials).toEqual({
      accessKeyId: 'local',
      secretAccessKey: 'local',
    });
    expect(clientSettings({ local: true }, { AWS_ACCESS_KEY_ID: 'k' }).credentials).toBeUndefined();
    expect(clientSettings({ local: true }, { AWS_PROFILE: 'dev' }).credentials).toBeUndefined();
    expect(clientSettings({}, {}).credentials).toBeUndefined();
  });
});
