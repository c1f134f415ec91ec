import { llmCallsFor, runJob, SUMMARY_MAX_CHARS, SUMMARY_TURNS } from '../../src/domain/runner';
import { ScriptedLlm } from '../support/memory';

describe('runJob', () => {
  it('answers a completion with one call and reports full progress', async () => {
    const llm = new ScriptedLlm();
    const progress: number[] = [];
    const result = await runJob(
      { type: 'completion', config: { prompt: 'hi', system: 'be brief' } },
      llm,
      async (p) => {
        progress.push(p);
      },
    );
    expect(result).toEqual({ text: 'reply 1' });
    expect(llm.calls[0]).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ]);
    // A single step: the result itself says done.
    expect(progress).toEqual([]);
  });

  it('has every agent take every round, then summarises, with progress rising after each step', async () => {
    const llm = new ScriptedLlm();
    const progress: number[] = [];
    const result = (await runJob(
      { type: 'panel', config: { topic: 'AI and jobs', agents: 3, rounds: 2 } },
      llm,
      async (p) => {
        progress.push(p);
      },
    )) as { transcript: { round: number; agent: number }[]; summary: string };

    expect(result.transcript.map((t) => `${t.round}.${t.agent}`)).toEqual([
      '1.1',
      '1.2',
      '1.3',
      '2.1',
      '2.2',
      '2.3',
    ]);
    expect(result.summary).toBe('reply 7');
    // After each of the 6 turns, not after the summary (the result sets 1).
    expect(progress).toHaveLength(6);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(6 / 7);
    expect(llm.calls[0]?.[0]?.content).toMatch(/panelist 1/);
  });

  it('sends only the latest turns back to the model, so prompts stay bounded', async () => {
    const llm = new ScriptedLlm();
    await runJob(
      { type: 'discussion', config: { topic: 't', agents: 5, rounds: 4 } },
      llm,
      async () => undefined,
    );
    const lastTurnPrompt = llm.calls[19]![1]!.content;
    expect(lastTurnPrompt.match(/^Agent \d/gm)).toHaveLength(6);
  });

  it('keeps the summary prompt bounded however long the transcript and its turns are', async () => {
    // Every answer is 3,000 characters: 200 turns would be 600 KB in one summary prompt.
    const long = 'x'.repeat(3000);
    const llm = {
      calls: [] as string[],
      complete: async (messages: { content: string }[]) => {
        llm.calls.push(messages.at(-1)!.content);
        return long;
      },
    };
    const config = { topic: 'long', agents: 20, rounds: 10 };
    await runJob({ type: 'discussion', config }, llm, async () => undefined);
    expect(llm.calls).toHaveLength(llmCallsFor({ type: 'discussion', config }));
    const summaryPrompt = llm.calls.at(-1)!;
    expect(summaryPrompt.length).toBeLessThanOrEqual(
      SUMMARY_MAX_CHARS + 'Topic: long\n'.length + SUMMARY_TURNS,
    );
    // The newest turn is in, the oldest is not.
    expect(summaryPrompt).toContain('Agent 20 (round 10)');
    expect(summaryPrompt).not.toContain('(round 1)');
  });

  it('counts the most calls a job can make: agents x rounds + a summary, or one completion', () => {
    expect(llmCallsFor({ type: 'panel', config: { topic: 't', agents: 20, rounds: 10 } })).toBe(201);
    expect(llmCallsFor({ type: 'simulation', config: { topic: 't', agents: 1, rounds: 1 } })).toBe(2);
    expect(llmCallsFor({ type: 'completion', config: { prompt: 'p' } })).toBe(1);
  });

  it('stops at the first LLM failure', async () => {
    const llm = new ScriptedLlm(1);
    await expect(
      runJob(
        { type: 'simulation', config: { topic: 't', agents: 2, rounds: 2 } },
        llm,
        async () => undefined,
      ),
    ).rejects.toThrow('503');
    expect(llm.calls).toHaveLength(1);
  });
});
