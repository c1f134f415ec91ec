import { startOpenAIStub, type OpenAIStub } from '../openai-stub/server';
import { startEmulators, type Emulators } from './emulators';
import {
  localCorsOrigins,
  portsFor,
  startOffline,
  stopOffline,
  waitForPort,
  type OfflineService,
  type ServiceExit,
} from './offline';
import { startJobsPage, type JobsPageServer } from './jobsPage';
import { localArnEnvironment, provision, type Endpoints, type ProvisionSummary } from './provision';
import { discoverRunnableServices, printService } from './services';

export interface LocalStackOptions {
  stage: string;
  /** Only these services (folder names); default every service with a serverless.yml. */
  services?: string[];
  /** Use this endpoint for SQS, SNS and DynamoDB (LocalStack) instead of starting emulators. */
  endpoint?: string;
  ports?: { sqs?: number; dynamodb?: number; httpBase?: number; openai?: number };
  region?: string;
  /** Hide serverless-offline's request log lines (tests); errors and the functions' JSON logs still show. */
  quiet?: boolean;
  /** No function timeouts (serverless-offline --noTimeout); see start.ts --no-timeout. */
  noTimeout?: boolean;
  log?: (line: string) => void;
  /** Aborting stops whatever has started and rejects (Ctrl-C while starting). */
  signal?: AbortSignal;
}

export interface LocalStack {
  urls: Record<string, string>;
  /** The `ws://` URL of each service with WebSocket routes. */
  websocketUrls: Record<string, string>;
  lambdaUrls: Record<string, string>;
  endpoints: Endpoints;
  /** The OpenAI-compatible base URL functions use: OPENAI_BASE_URL, or the local stand-in. */
  openaiBaseUrl: string;
  summary: ProvisionSummary;
  /** The jobs page (HTTP base + 90), when both APIs it uses run in this stack. */
  jobsPageUrl?: string;
  /** Each service's serverless offline process id, which is also its process group id. */
  pids: Record<string, number>;
  /** Resolves with the first service whose process exits while the stack is not being stopped. */
  failed: Promise<ServiceExit>;
  stop(): Promise<void>;
}

/** The jobs page's port: beside the services' HTTP ports, below their Lambda ports (base + 100). */
export const jobsPagePort = (httpBase: number) => httpBase + 90;

/**
 * The whole local stack: emulators (or an external endpoint), resources provisioned from each
 * service's serverless.yml, and `serverless offline` for every service. `npm start` and the
 * integration tests both come through here.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const region = options.region ?? 'us-east-1';
  const services = discoverRunnableServices(options.services);
  if (services.length === 0) throw new Error('No services with a serverless.yml were found');

  let emulators: Emulators | undefined;
  let stub: OpenAIStub | undefined;
  let page: JobsPageServer | undefined;
  const offline: OfflineService[] = [];
  let stopping = false;
  let reportFailure: (exit: ServiceExit) => void = () => undefined;
  const failed = new Promise<ServiceExit>((resolve) => (reportFailure = resolve));
  const stop = async () => {
    stopping = true;
    await page?.stop();
    await Promise.all(offline.map((service) => stopOffline(service)));
    await emulators?.stop();
    await stub?.stop();
  };
  const aborted = new Promise<never>((_, reject) => {
    const abort = () => reject(new Error('Stopped while starting'));
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener('abort', abort, { once: true });
  });
  // Startup awaits race the abort; the loser is left to settle on its own.
  aborted.catch(() => undefined);
  const unlessAborted = <T>(work: Promise<T>) => Promise.race([work, aborted]);

  try {
    const configs = Promise.all(services.map((service) => printService(service, options.stage)));
    let endpoints: Endpoints;
    if (options.endpoint) {
      endpoints = { sqs: options.endpoint, sns: options.endpoint, dynamodb: options.endpoint };
    } else {
      emulators = await unlessAborted(
        startEmulators({
          sqs: options.ports?.sqs ?? 4566,
          dynamodb: options.ports?.dynamodb ?? 8000,
        }),
      );
      endpoints = emulators.endpoints;
    }
    log(`SQS/SNS   ${endpoints.sqs}`);
    log(`DynamoDB  ${endpoints.dynamodb}`);

    // With no OPENAI_BASE_URL the functions talk to the local stand-in, so no key is needed.
    let openai = { baseUrl: process.env.OPENAI_BASE_URL ?? '', apiKey: process.env.OPENAI_API_KEY ?? '' };
    if (!openai.baseUrl) {
      stub = await unlessAborted(startOpenAIStub({ port: options.ports?.openai ?? 4010 }));
      openai = { baseUrl: stub.url, apiKey: 'local-stand-in' };
      log(`OpenAI    ${stub.url} (local stand-in; set OPENAI_BASE_URL to use a real provider)`);
    } else {
      log(`OpenAI    ${openai.baseUrl}`);
    }

    const resolved = await unlessAborted(configs);
    const summary = await unlessAborted(provision({ services: resolved, endpoints, region, log }));
    log(
      `Provisioned ${Object.keys(summary.queues).length} queues, ${Object.keys(summary.topics).length} topics, ` +
        `${summary.subscriptions} subscriptions, ${summary.tables.length} tables (stage ${options.stage})`,
    );

    // Nothing may be spawned after an abort: its stop has already run.
    if (options.signal?.aborted) await aborted;
    const httpBase = options.ports?.httpBase ?? 3000;
    for (const service of services) {
      const ports = portsFor(service, httpBase);
      const started = startOffline(service, {
        stage: options.stage,
        ports,
        endpoints,
        openai,
        provisioned: localArnEnvironment(summary),
        corsOrigins: localCorsOrigins(httpBase),
        quiet: options.quiet,
        noTimeout: options.noTimeout,
      });
      offline.push(started);
      void started.exited.then((exit) => !stopping && reportFailure(exit));
    }
    // A service is up once it listens where it serves: HTTP routes, else WebSocket routes, else
    // (workers only) the Lambda Invoke API.
    const readyPort = (i: number) => {
      const ports = portsFor(services[i]!, httpBase);
      const serves = resolved[i]!.serves;
      return serves.http ? ports.http : serves.websocket ? ports.websocket : ports.lambda;
    };
    await unlessAborted(
      Promise.all(offline.map((service, i) => waitForPort(readyPort(i), service, 120_000))),
    );
    const urls = Object.fromEntries(offline.map((service) => [service.name, service.url]));
    const websocketUrls = Object.fromEntries(
      offline
        .filter((_, i) => resolved[i]!.serves.websocket)
        .map((service) => [service.name, service.websocketUrl]),
    );
    const lambdaUrls = Object.fromEntries(offline.map((service) => [service.name, service.lambdaUrl]));
    const pids = Object.fromEntries(offline.map((service) => [service.name, service.process.pid!]));
    if (urls['ai-jobs'] && urls['batch-poller']) {
      page = await unlessAborted(
        startJobsPage({
          port: jobsPagePort(httpBase),
          config: {
            jobs_api_url: urls['ai-jobs'],
            batch_api_url: urls['batch-poller'],
            // Without the live-updates service the page polls.
            ...(websocketUrls['live-updates'] && { websocket_url: websocketUrls['live-updates'] }),
          },
        }),
      );
    }
    return {
      urls,
      websocketUrls,
      lambdaUrls,
      endpoints,
      openaiBaseUrl: openai.baseUrl,
      summary,
      jobsPageUrl: page?.url,
      pids,
      failed,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
