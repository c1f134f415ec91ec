import OpenAI from 'openai';
import type { Llm } from '../domain/runner';

/**
 * The LLM seam over the official SDK. OPENAI_BASE_URL and OPENAI_API_KEY (read by the SDK) pick
 * the provider, so any OpenAI-compatible server works. The SDK retries 429/5xx with backoff.
 */
export function openaiLlm(options: { model: string; maxRetries: number; timeoutMs: number }): Llm {
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
