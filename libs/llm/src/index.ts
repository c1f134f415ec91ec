import OpenAI from 'openai';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The LLM seam every service uses: one chat completion. Tests use a scripted stand-in. */
export interface Llm {
  complete(messages: ChatMessage[]): Promise<string>;
}

export interface OpenAILlmOptions {
  model: string;
  maxRetries: number;
  timeoutMs: number;
}

/**
 * The seam over the official SDK. OPENAI_BASE_URL and OPENAI_API_KEY (read by the SDK) pick the
 * provider, so any OpenAI-compatible server works. The SDK retries 429/5xx with backoff.
 */
export function openaiLlm(options: OpenAILlmOptions): Llm {
  const client = new OpenAI({ maxRetries: options.maxRetries, timeout: options.timeoutMs });
  return {
    async complete(messages) {
      const completion = await client.chat.completions.create({ model: options.model, messages });
      const text = completion.choices[0]?.message.content;
      if (text === undefined || text === null) throw new Error('The model returned no content');
      return text;
    },
  };
}
