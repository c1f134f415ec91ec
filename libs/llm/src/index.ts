import type OpenAI from 'openai';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompleteOptions {
  /** Aborts the call, retries included: a worker passes one that fires before its time runs out. */
  signal?: AbortSignal;
}

/** The LLM seam every service uses: one chat completion. Tests use a scripted stand-in. */
export interface Llm {
  complete(messages: ChatMessage[], options?: CompleteOptions): Promise<string>;
}

export interface OpenAILlmOptions {
  model: string;
  maxRetries: number;
  timeoutMs: number;
  /** Cap on each answer's length (`max_tokens`), so one call's cost is bounded. */
  maxTokens?: number;
}

/** Every call carries a cap: a model left to run on is the one cost no other limit bounds. */
export const DEFAULT_MAX_TOKENS = 1024;

/** Reads one SecureString parameter, decrypted. */
export type ParameterReader = (name: string) => Promise<string>;

// The shared client, loaded on first use: workers given OPENAI_API_KEY never load the SSM client,
// and those reading the parameter load it on their first call, not in every cold start's INIT.
const readSsmParameter: ParameterReader = async (name) =>
  (await import('@offload/aws/ssm')).readSecureParameter(name);

/**
 * Where the OpenAI key comes from: OPENAI_API_KEY when set (local runs, any provider); otherwise
 * the SSM parameter OPENAI_API_KEY_PARAM names (deployed stages, so the key is never in the
 * function's configuration). Resolved once per cold start; a failed lookup is not cached, so the
 * next invocation tries again. Undefined when neither is set: the SDK then reports the missing key.
 */
export function openaiApiKey(
  env: NodeJS.ProcessEnv = process.env,
  read: ParameterReader = readSsmParameter,
): () => Promise<string | undefined> {
  let key: Promise<string | undefined> | undefined;
  return () => {
    if (!key) {
      const direct = env.OPENAI_API_KEY || undefined;
      const parameter = env.OPENAI_API_KEY_PARAM;
      key = direct || !parameter ? Promise.resolve(direct) : read(parameter);
      key.catch(() => (key = undefined));
    }
    return key;
  };
}

/**
 * The official SDK, loaded on first use: it is about half of an LLM worker's bundle, and every
 * millisecond of a cold start's module loading is billed.
 */
export async function loadOpenAI(): Promise<typeof OpenAI> {
  return (await import('openai')).default;
}

/**
 * The seam over the official SDK. OPENAI_BASE_URL (read by the SDK) and the key (see
 * openaiApiKey) pick the provider, so any OpenAI-compatible server works. The SDK retries 429/5xx
 * with backoff. The client is built on the first call, once the key is known.
 */
export function openaiLlm(options: OpenAILlmOptions, apiKey = openaiApiKey()): Llm {
  let client: OpenAI | undefined;
  return {
    async complete(messages, { signal } = {}) {
      client ??= new (await loadOpenAI())({
        apiKey: await apiKey(),
        maxRetries: options.maxRetries,
        timeout: options.timeoutMs,
      });
      const completion = await client.chat.completions.create(
        { model: options.model, messages, max_tokens: options.maxTokens ?? DEFAULT_MAX_TOKENS },
        signal && { signal },
      );
      const text = completion.choices[0]?.message.content;
      if (text === undefined || text === null) throw new Error('The model returned no content');
      return text;
    },
  };
}
