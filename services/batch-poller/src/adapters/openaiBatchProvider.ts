import OpenAI, { toFile } from 'openai';
import * as z from 'zod';
import { openaiApiKey } from '@offload/llm';
import type { BatchProvider, ProviderCheck } from '../domain/batchJobs';

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
  response: z
    .object({
      status_code: z.number(),
      body: z.object({
        choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).optional(),
        error: z.object({ message: z.string() }).optional(),
      }),
    })
    .nullable()
    .optional(),
  error: z.object({ code: z.string().nullable().optional(), message: z.string() }).nullable().optional(),
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
    (openai ??= new OpenAI({
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

  function outcomeOf(line: z.infer<typeof outputLine>): ProviderCheck {
    const response = line.response;
    if (line.error) return { status: 'failed', error: line.error.message };
    if (!response || response.status_code >= 400) {
      return {
        status: 'failed',
        error: response?.body.error?.message ?? `The request failed with status ${response?.status_code}`,
      };
    }
    const content = response.body.choices?.[0]?.message.content;
    if (content === undefined || content === null)
      return { status: 'failed', error: 'The model returned no content' };
    return { status: 'succeeded', result: content };
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
        body: { model: options.model, messages },
      })}\n`;
      const openaiClient = await client();
      const file = await openaiClient.files.create({
        file: await toFile(Buffer.from(jsonl, 'utf8'), `${request.jobId}-${request.itemId}.jsonl`),
        purpose: 'batch',
      });
      const batch = await openaiClient.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { job_id: request.jobId, item_id: request.itemId },
      });
      return batch.id;
    },

    async cancel(providerTaskId) {
      await (await client()).batches.cancel(providerTaskId);
    },

    async check(providerTaskId) {
      const batch = await (await client()).batches.retrieve(providerTaskId);
      switch (batch.status) {
        case 'validating':
        case 'in_progress':
        case 'finalizing':
        case 'cancelling':
          return { status: batch.status };
        case 'completed':
          if (batch.output_file_id) return outcomeOf(await readLine(batch.output_file_id));
          if (batch.error_file_id) return outcomeOf(await readLine(batch.error_file_id));
          return { status: 'failed', error: 'The batch completed without an output file' };
        case 'failed':
          return {
            status: 'failed',
            error: batch.errors?.data?.[0]?.message ?? 'The provider failed the batch',
          };
        case 'expired':
          return { status: 'expired', error: 'The batch expired before it completed' };
        case 'cancelled':
          return { status: 'cancelled', error: 'The batch was cancelled' };
      }
    },
  };
}
