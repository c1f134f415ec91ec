import type OpenAI from 'openai';
import * as z from 'zod/mini';
import { PublicFailureError } from '@offload/errors';
import { loadOpenAI, openaiApiKey } from '@offload/llm';
import { ProviderRejectedError, type BatchProvider, type ProviderCheck } from '../domain/batchJobs';

/**
 * The SDK sends an idempotency header only when a client names one: with it, every POST carries
 * `Idempotency-Key` (ours when given, else one the SDK keeps for all retries of that request), so
 * a retried POST is answered with the object the first attempt created.
 */
async function loadIdempotentOpenAI() {
  const OpenAI = await loadOpenAI();
  return class IdempotentOpenAI extends OpenAI {
    protected override idempotencyHeader = 'Idempotency-Key';
  };
}

/** The SDK's API errors carry the HTTP status; checked by shape, so the SDK loads only when used. */
const statusOf = (error: unknown): number | undefined => {
  const status = error instanceof Error ? (error as Error & { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
};

/** Answers that say the request itself was refused, so nothing was created by it. */
const isDefiniteRejection = (error: unknown) => {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
};

// What clients see when an item ends without a result; the provider's text stays in the logs.
const failure = (code: string, message: string, detail?: string) =>
  new PublicFailureError(code, message, detail === undefined ? undefined : { cause: new Error(detail) });
const ITEM_FAILED = ['item_failed', 'The model could not answer this item'] as const;

export interface OpenAIBatchOptions {
  model: string;
  maxRetries: number;
  timeoutMs: number;
  /** Receives the SDK's retry lines (429 and 5xx answers, with attempts left). */
  onRetry(message: string): void;
}

// One line of a batch output or error file, as the Batch API documents it.
const outputLine = z.object({
  custom_id: z.string(),
  response: z.optional(
    z.nullable(
      z.object({
        status_code: z.number(),
        body: z.object({
          choices: z.optional(z.array(z.object({ message: z.object({ content: z.nullable(z.string()) }) }))),
          error: z.optional(z.object({ message: z.string() })),
        }),
      }),
    ),
  ),
  error: z.optional(z.nullable(z.object({ code: z.optional(z.nullable(z.string())), message: z.string() }))),
});

/**
 * The provider seam over the official SDK's Files and Batches APIs. Each item is its own one-line
 * batch, so each has its own provider id and lifecycle to poll. The SDK honours 429 and
 * `Retry-After` with exponential backoff and jitter; its retry lines reach `onRetry`.
 */
export function openaiBatchProvider(options: OpenAIBatchOptions, apiKey = openaiApiKey()): BatchProvider {
  let openai: OpenAI | undefined;
  // Built on first use, once the key is known (on AWS it comes from SSM at cold start).
  const client = async () =>
    (openai ??= new (await loadIdempotentOpenAI())({
      apiKey: await apiKey(),
      maxRetries: options.maxRetries,
      timeout: options.timeoutMs,
      logLevel: 'info',
      logger: {
        error: () => undefined,
        warn: () => undefined,
        // Only the retry decisions: every successful request would otherwise log a line.
        info: (message: string) => {
          if (/retrying|no more retries/.test(message)) options.onRetry(message);
        },
        debug: () => undefined,
      },
    }));

  async function readLine(fileId: string): Promise<z.infer<typeof outputLine>> {
    const content = await (await (await client()).files.content(fileId)).text();
    const first = content.split('\n').find((l) => l.trim() !== '');
    if (!first) throw new Error(`Batch file ${fileId} is empty`);
    return outputLine.parse(JSON.parse(first));
  }

  function outcomeOf(line: z.infer<typeof outputLine>, files: string[]): ProviderCheck {
    const response = line.response;
    if (line.error) return { status: 'failed', failure: failure(...ITEM_FAILED, line.error.message), files };
    if (!response || response.status_code >= 400) {
      const detail =
        response?.body.error?.message ?? `The request failed with status ${response?.status_code}`;
      return { status: 'failed', failure: failure(...ITEM_FAILED, detail), files };
    }
    const content = response.body.choices?.[0]?.message.content;
    if (content === undefined || content === null) {
      const empty = failure('empty_result', 'The model returned no content for this item');
      return { status: 'failed', failure: empty, files };
    }
    return { status: 'succeeded', result: content, files };
  }

  /** Removes an input file a refused batch left behind; best effort, the refusal is what matters. */
  async function discard(openaiClient: OpenAI, fileId: string): Promise<void> {
    await openaiClient.files.delete(fileId).catch(() => undefined);
  }

  return {
    async submit(request) {
      const messages = [
        ...(request.system ? [{ role: 'system', content: request.system }] : []),
        { role: 'user', content: request.input },
      ];
      const jsonl = `${JSON.stringify({
        custom_id: request.itemId,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: options.model, messages, max_tokens: request.maxTokens },
      })}\n`;
      const openaiClient = await client();
      const { toFile } = await import('openai');
      try {
        const file = await openaiClient.files.create(
          {
            file: await toFile(Buffer.from(jsonl, 'utf8'), `${request.jobId}-${request.itemId}.jsonl`),
            purpose: 'batch',
          },
          { idempotencyKey: `${request.submitKey}-file` },
        );
        try {
          const batch = await openaiClient.batches.create(
            {
              input_file_id: file.id,
              endpoint: '/v1/chat/completions',
              completion_window: '24h',
              metadata: { job_id: request.jobId, item_id: request.itemId },
            },
            { idempotencyKey: `${request.submitKey}-batch` },
          );
          return batch.id;
        } catch (error) {
          if (isDefiniteRejection(error)) await discard(openaiClient, file.id);
          throw error;
        }
      } catch (error) {
        if (!isDefiniteRejection(error)) throw error;
        throw new ProviderRejectedError('The provider refused the item', { cause: error });
      }
    },

    async deleteFile(fileId) {
      try {
        await (await client()).files.delete(fileId);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    },

    async cancel(providerTaskId) {
      await (await client()).batches.cancel(providerTaskId);
    },

    async check(providerTaskId) {
      const batch = await (await client()).batches.retrieve(providerTaskId);
      const files = [batch.input_file_id, batch.output_file_id, batch.error_file_id].filter(
        (id): id is string => typeof id === 'string' && id !== '',
      );
      switch (batch.status) {
        case 'validating':
        case 'in_progress':
        case 'finalizing':
        case 'cancelling':
          return { status: batch.status };
        case 'completed':
          if (batch.output_file_id) return outcomeOf(await readLine(batch.output_file_id), files);
          if (batch.error_file_id) return outcomeOf(await readLine(batch.error_file_id), files);
          return { status: 'failed', failure: failure(...ITEM_FAILED, 'No output file'), files };
        case 'failed':
          return {
            status: 'failed',
            failure: failure(
              'provider_rejected',
              "The provider rejected this item's request",
              batch.errors?.data?.[0]?.message ?? 'The provider failed the batch',
            ),
            files,
          };
        case 'expired':
          return {
            status: 'expired',
            failure: failure('expired', 'The provider did not finish this item within its 24-hour window'),
            files,
          };
        case 'cancelled':
          return {
            status: 'cancelled',
            failure: failure('cancelled', "The item's batch was cancelled"),
            files,
          };
      }
    },
  };
}
