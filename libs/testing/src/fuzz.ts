import { ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import type * as z from 'zod/mini';
import { dynamo } from '@offload/aws/dynamodb';
import { sqs } from '@offload/aws/sqs';
import { badRequests, unwantedBodies, validBodies, type BadRequest } from './badBodies';

export { badRequests, unwantedBodies, validBodies, type BadRequest };

/** What a request could have changed: every queue's depth and every table's item count. */
export type StageSnapshot = Record<string, number>;

async function queueSnapshot(): Promise<StageSnapshot> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await sqs.send(new ListQueuesCommand({ MaxResults: 1000, NextToken }));
    urls.push(...(out.QueueUrls ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  const depths = await Promise.all(
    urls.map(async (QueueUrl) => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const depth = Object.values(out.Attributes ?? {}).reduce((sum, value) => sum + Number(value), 0);
      return [`queue ${QueueUrl.split('/').pop()}`, depth] as const;
    }),
  );
  return Object.fromEntries(depths);
}

async function tableSnapshot(): Promise<StageSnapshot> {
  const names: string[] = [];
  let ExclusiveStartTableName: string | undefined;
  do {
    const out = await dynamo.send(new ListTablesCommand({ ExclusiveStartTableName }));
    names.push(...(out.TableNames ?? []));
    ExclusiveStartTableName = out.LastEvaluatedTableName;
  } while (ExclusiveStartTableName);
  const counts = await Promise.all(
    names.map(async (TableName) => {
      let count = 0;
      let ExclusiveStartKey: ScanCommand['input']['ExclusiveStartKey'];
      do {
        const out = await dynamo.send(
          new ScanCommand({ TableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey }),
        );
        count += out.Count ?? 0;
        ExclusiveStartKey = out.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return [`table ${TableName}`, count] as const;
    }),
  );
  return Object.fromEntries(counts);
}

/**
 * Every queue's depth (visible + in flight + delayed) and every table's item count on the test
 * stack's emulators. Taken until two readings a second apart agree, so work other tests left
 * behind (a worker finishing a message) has settled before the fuzz starts.
 */
export async function stageSnapshot({
  only = '',
  settleMs = 2000,
  attempts = 30,
}: { only?: string; settleMs?: number; attempts?: number } = {}): Promise<StageSnapshot> {
  // Other suites' work (events fanning out, retries one visibility timeout apart) may still be
  // moving in other services; a route's side effects can only land in its own service's resources.
  const read = async () =>
    Object.fromEntries(
      Object.entries({ ...(await queueSnapshot()), ...(await tableSnapshot()) }).filter(([name]) =>
        name.includes(only),
      ),
    );
  let previous = await read();
  let stable = 0;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const current = await read();
    stable = JSON.stringify(current) === JSON.stringify(previous) ? stable + 1 : 0;
    // Two quiet reads in a row: longer than a test stage's visibility timeouts (3 s).
    if (stable >= 2) return current;
    previous = current;
  }
  throw new Error(`the stage did not settle: ${JSON.stringify(previous)}`);
}

export interface Answer {
  status: number;
  text: string;
}

export async function send(url: string, request: BadRequest, apiKey: string): Promise<Answer> {
  const headers: Record<string, string> = { 'x-api-key': apiKey };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  // Bytes, not a string: fetch gives a string body a text/plain Content-Type of its own.
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: Buffer.from(request.body, 'utf8'),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Why an answer to a bad request is wrong, or undefined when it is a proper 4xx. */
export function problemWith(request: BadRequest, answer: Answer): string | undefined {
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    return `a ${answer.status} whose body is not JSON`;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    return `a ${answer.status} without {error: {code, message}}`;
  }
  if (error.code !== 'validation_failed') return undefined;
  const details = error.details as { field?: unknown; message?: unknown }[] | undefined;
  if (!Array.isArray(details) || details.length === 0) return 'validation_failed without details';
  if (details.some((detail) => typeof detail.field !== 'string' || typeof detail.message !== 'string')) {
    return 'a detail without {field, message}';
  }
  const named = details.some((detail) =>
    request.mutation.fields.some(
      (field) => detail.field === field || (detail.field as string).startsWith(`${field}.`),
    ),
  );
  return named
    ? undefined
    : `details name ${JSON.stringify(details)}, not ${request.mutation.fields.join(' or ')}`;
}

export interface FuzzOptions {
  url: string;
  /** The endpoint's body schema; omit for an endpoint that takes no body. */
  schema?: z.ZodMiniType;
  maxBytes: number;
  apiKey: string;
  numRuns: number;
  seed: number;
  concurrency: number;
}

export interface FuzzReport {
  requests: number;
  failures: { index: number; request: BadRequest; problem: string; answer: string }[];
  statuses: Record<number, number>;
  /** Cases sent again after serverless-offline's own timeout answer. */
  retried: number;
  ms: number;
}

/**
 * Sends `numRuns` generated bad requests (reproducible from `seed`) with bounded concurrency and
 * collects every answer that is not a proper 4xx. fast-check's runner sends one at a time, so the
 * cases are drawn with fc.sample and sent by a small pool instead.
 */
export async function fuzzEndpoint(options: FuzzOptions): Promise<FuzzReport> {
  const arbitrary = options.schema
    ? badRequests(options.schema, { maxBytes: options.maxBytes })
    : unwantedBodies({ maxBytes: options.maxBytes });
  const cases = fc.sample(arbitrary, { numRuns: options.numRuns, seed: options.seed });
  const report: FuzzReport = { requests: 0, failures: [], statuses: {}, retried: 0, ms: 0 };
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const request = cases[index]!;
      let answer = await send(options.url, request, options.apiKey);
      // A cold start on a loaded machine can outlast a local function's timeout (see warmUp);
      // such a case is sent again, twice at most, so a handler that really hangs still fails.
      for (let retry = 0; retry < 2 && isLocalTimeout(answer); retry += 1) {
        report.retried += 1;
        answer = await send(options.url, request, options.apiKey);
      }
      report.requests += 1;
      report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
      const problem = problemWith(request, answer);
      if (problem) report.failures.push({ index, request, problem, answer: answer.text.slice(0, 300) });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.ms = Date.now() - started;
  return report;
}

/** A failure report a person can act on: the seed to replay and the first few cases. */
export function describeFailures(report: FuzzReport, seed: number): string {
  const shown = report.failures
    .slice(0, 5)
    .map(
      ({ index, request, problem, answer }) =>
        `#${index} ${request.kind} (${request.mutation.label}), Content-Type ${request.contentType ?? '(none)'}: ${problem}\n` +
        `  body: ${JSON.stringify(request.body.length > 300 ? `${request.body.slice(0, 300)}…` : request.body)}\n` +
        `  answer: ${answer}`,
    )
    .join('\n');
  return `${report.failures.length} of ${report.requests} bad requests were not a proper 4xx (replay with FUZZ_SEED=${seed}):\n${shown}`;
}

/** serverless-offline's answer when a function outlasts its timeout (a 200 carrying the error). */
const isLocalTimeout = (answer: Answer) => answer.text.includes('"errorType":"LambdaTimeoutError"');

/**
 * Starts `concurrency` instances of the endpoint's function, a wave at a time. serverless-offline
 * starts a new instance for every request that finds none idle, and on a loaded machine a cold
 * start can outlast the function's timeout (it answers 200 with a LambdaTimeoutError and drops the
 * instance), which would fail the fuzz for the emulator's sake. A wave is retried until the
 * function answers all of it, within two minutes.
 */
async function warmUp(url: string, concurrency: number, apiKey: string): Promise<void> {
  const request: BadRequest = {
    kind: 'json',
    body: 'false',
    contentType: 'application/json',
    mutation: { label: 'warm-up', fields: ['(body)'] },
  };
  const deadline = Date.now() + 120_000;
  const waves = [1, 2, 4, 8, 16, 32].filter((wave) => wave < concurrency).concat(concurrency);
  for (const wave of waves) {
    for (;;) {
      const answers = await Promise.all(Array.from({ length: wave }, () => send(url, request, apiKey)));
      if (!answers.some(isLocalTimeout)) break;
      if (Date.now() > deadline) throw new Error(`${url} did not warm up within two minutes`);
    }
  }
}

export interface FuzzedEndpoint {
  path: string;
  /** The endpoint's body schema; omit for an endpoint that takes no body. */
  schema?: z.ZodMiniType;
  maxBytes: number;
  /** The key to send; an operator route needs an operator key, or every answer is a 403. */
  apiKey?: string;
}

/** httpApi's limit for an endpoint that sets none (the endpoints without a body). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
// Every request carries a valid key, so a 4xx is about the body, whatever each route checks first.
const API_KEY = 'dev-key-alice';

/**
 * The bad-body suite of one service: for each POST endpoint, FUZZ_RUNS (500) generated bad
 * requests must all answer a 4xx `{error: {code, message}}` (naming the mutated field when it is
 * a validation failure), and no queue depth or table count of the stage may change. FUZZ_SEED
 * replays a run; FUZZ_CONCURRENCY (8) bounds the requests in flight.
 */
export function describeBadBodies(service: string, urlEnv: string, endpoints: FuzzedEndpoint[]): void {
  const numRuns = Number(process.env.FUZZ_RUNS ?? 500);
  const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 8);
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const base = () => {
    const url = process.env[urlEnv];
    if (!url) throw new Error(`${urlEnv} is not set: the integration globalSetup did not run`);
    return url;
  };

  describe(`${service}: bad bodies`, () => {
    for (const endpoint of endpoints) {
      const maxBytes = endpoint.maxBytes;
      if (endpoint.schema) {
        const schema = endpoint.schema;
        it(`generates for POST ${endpoint.path} only bodies its schema refuses, from valid ones`, () => {
          for (const body of fc.sample(validBodies(schema), { numRuns: 200, seed })) {
            expect(schema.safeParse(body).error).toBeUndefined();
          }
          for (const request of fc.sample(badRequests(schema, { maxBytes }), { numRuns: 500, seed })) {
            if (request.kind !== 'field') continue;
            let parsed: unknown;
            try {
              parsed = JSON.parse(request.body);
            } catch {
              continue; // Not JSON (NaN, 0x10): the parser refuses it before the schema sees it.
            }
            if (schema.safeParse(parsed).success) {
              throw new Error(
                `generated a valid body (${request.mutation.label}, seed ${seed}): ${request.body}`,
              );
            }
          }
        });
      }

      it(`answers ${numRuns} bad bodies on POST ${endpoint.path} with a 4xx and changes nothing`, async () => {
        const url = `${base()}${endpoint.path}`;
        const apiKey = endpoint.apiKey ?? API_KEY;
        const only = `offload-${service}-`;
        await warmUp(url, concurrency, apiKey);
        const before = await stageSnapshot({ only });
        const report = await fuzzEndpoint({
          url,
          schema: endpoint.schema,
          maxBytes,
          apiKey,
          numRuns,
          seed,
          concurrency,
        });
        const after = await stageSnapshot({ only });
        console.log(
          `POST ${endpoint.path}: ${report.requests} bad bodies in ${report.ms} ms ` +
            `(${Math.round((report.requests * 1000) / report.ms)}/s), seed ${seed}, statuses ${JSON.stringify(report.statuses)}, ` +
            `${report.retried} resent after a local cold-start timeout`,
        );
        if (report.failures.length > 0) throw new Error(describeFailures(report, seed));
        expect(report.requests).toBe(numRuns);
        expect(after).toEqual(before);
      });
    }
  });
}
