import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** One client per cold start; endpoint from AWS_ENDPOINT_URL(_SSM). */
export const ssm = new SSMClient({});

/** One SecureString parameter, decrypted; a parameter without a value is an error, not "". */
export async function readSecureParameter(name: string): Promise<string> {
  const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}
