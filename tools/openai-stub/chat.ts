import { createHash } from 'node:crypto';
import { apiError, readJson, send, sleep, type RouteTable } from './http';
import type { StubState } from './state';

type ChatMessage = { role: string; content: string };

export function chatMessages(body: Record<string, unknown>): ChatMessage[] | undefined {
  const messages = (body.messages ?? []) as ChatMessage[];
  return Array.isArray(messages) && messages.length > 0 ? messages : undefined;
}

const promptOf = (messages: ChatMessage[]) => messages.map((m) => String(m.content)).join('\n');

/** The chat.completion object; shared by the chat route and batch output so both answer alike. */
export function chatCompletion(messages: ChatMessage[], model: unknown) {
  const prompt = promptOf(messages);
  const last = messages[messages.length - 1]!.content;
  const digest = createHash('sha256').update(prompt).digest('hex').slice(0, 8);
  const content = `[${digest}] ${String(last).replace(/\s+/g, ' ').slice(0, 80)}`;
  return {
    id: `chatcmpl-${digest}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: String(model ?? 'stub'),
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: prompt.length,
      completion_tokens: content.length,
      total_tokens: prompt.length + content.length,
    },
  };
}

/** Chat completions: deterministic answers, with the control API's faults, delays and answers. */
export function chatRoutes(state: StubState): RouteTable {
  return {
    'POST /v1/chat/completions': async (req, res) => {
      state.stats.requests += 1;
      const body = await readJson(req);
      const messages = chatMessages(body);
      if (!messages) return apiError(res, 400, 'messages is required');
      const prompt = promptOf(messages);
      state.rememberPrompt(prompt);
      const answer = state.answers.find((a) => prompt.includes(a.match));
      if (answer) answer.calls += 1;
      const fault = state.faults.find((f) => f.remaining > 0 && prompt.includes(f.match));
      if (fault) {
        fault.remaining -= 1;
        state.stats.failures += 1;
        return apiError(res, fault.status, `Injected failure for "${fault.match}"`);
      }
      const delay = state.delays.find((d) => d.remaining > 0 && prompt.includes(d.match));
      if (delay) {
        delay.remaining -= 1;
        await sleep(delay.delayMs);
      }
      await sleep(state.latencyMs);
      const completion = chatCompletion(messages, body.model);
      if (answer?.contentChars !== undefined)
        completion.choices[0]!.message.content = 'x'.repeat(answer.contentChars);
      send(res, 200, completion);
    },
    'GET /v1/models': async (_req, res) => {
      send(res, 200, { object: 'list', data: [{ id: 'stub', object: 'model', owned_by: 'offload' }] });
    },
  };
}
