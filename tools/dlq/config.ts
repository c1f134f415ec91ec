export interface ClientSettings {
  /** Undefined means the SDK default: real AWS for the region. */
  endpoint?: string;
  region: string;
  /** Set only for an explicit endpoint when the environment carries no credentials. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface ConnectionFlags {
  endpoint?: string;
  /** Use the endpoint `npm start` serves (127.0.0.1, SQS_PORT or 4566). */
  local?: boolean;
  region?: string;
}

type Env = Record<string, string | undefined>;

/** The endpoint `npm start` serves SQS on. */
export function localEndpoint(env: Env): string {
  return `http://127.0.0.1:${env.SQS_PORT ?? '4566'}`;
}

/**
 * Where the CLI talks to: `--endpoint`, then `--local`, then the SDK's standard
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL, else real AWS. Emulators accept any credentials, so an
 * explicit endpoint with none in the environment gets dummy ones instead of a credential error.
 */
export function clientSettings(flags: ConnectionFlags, env: Env): ClientSettings {
  const endpoint =
    flags.endpoint ||
    (flags.local ? localEndpoint(env) : undefined) ||
    env.AWS_ENDPOINT_URL_SQS ||
    env.AWS_ENDPOINT_URL ||
    undefined;
  const region = flags.region || env.AWS_REGION || 'us-east-1';
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return {
    endpoint,
    region,
    ...(endpoint && !hasCredentials && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}
