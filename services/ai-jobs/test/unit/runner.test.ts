import { runJob } from '../../src/domain/runner';
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
    expect(progress).toEqual([1]);
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
    expect(progress).toHaveLength(7);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(1);
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
