import type { ChatMessage, Llm } from '@offload/llm';
import type { CreateJobBody, MultiAgentConfig } from '@offload/messages';

export type { ChatMessage, Llm };

export type Progress = (fraction: number) => Promise<void>;

const ROLE: Record<'simulation' | 'panel' | 'discussion', (agent: number) => string> = {
  simulation: (agent) => `You are agent ${agent} in a simulation. Act in character and say what you do next.`,
  panel: (agent) => `You are panelist ${agent} on an expert panel. Give your view and respond to the others.`,
  discussion: (agent) => `You are participant ${agent} in a discussion. Add one new point each turn.`,
};

// Only the latest turns go back to the model, so a long run's prompts stay bounded.
const CONTEXT_TURNS = 6;
// The summary reads the latest turns under a character cap, so its prompt (and cost) does not grow
// with the transcript: 20 agents x 10 rounds would otherwise send all 200 turns at once.
export const SUMMARY_TURNS = 20;
export const SUMMARY_MAX_CHARS = 12_000;

/** The most LLM calls a job can make: what the caller's budget is charged when it is accepted. */
export function llmCallsFor(job: CreateJobBody): number {
  return job.type === 'completion' ? 1 : job.config.agents * job.config.rounds + 1;
}

/** The transcript part of the summary prompt: newest turns first in, oldest dropped past the cap. */
export function summaryContext(
  transcript: readonly { round: number; agent: number; text: string }[],
): string {
  const lines: string[] = [];
  let chars = 0;
  for (const turn of transcript.slice(-SUMMARY_TURNS).reverse()) {
    const line = `Agent ${turn.agent} (round ${turn.round}): ${turn.text}`;
    const room = SUMMARY_MAX_CHARS - chars;
    if (room <= 0) break;
    lines.unshift(line.length > room ? line.slice(0, room) : line);
    chars += Math.min(line.length, room) + 1;
  }
  return lines.join('\n');
}

interface Turn {
  round: number;
  agent: number;
  text: string;
}

async function runAgents(
  type: 'simulation' | 'panel' | 'discussion',
  config: MultiAgentConfig,
  llm: Llm,
  progress: Progress,
) {
  const steps = config.agents * config.rounds + 1;
  const transcript: Turn[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    for (let agent = 1; agent <= config.agents; agent++) {
      const context = transcript
        .slice(-CONTEXT_TURNS)
        .map((t) => `Agent ${t.agent} (round ${t.round}): ${t.text}`)
        .join('\n');
      const text = await llm.complete([
        { role: 'system', content: ROLE[type](agent) },
        { role: 'user', content: `Topic: ${config.topic}\nRound ${round} of ${config.rounds}.\n${context}` },
      ]);
      transcript.push({ round, agent, text });
      await progress(transcript.length / steps);
    }
  }
  const summary = await llm.complete([
    { role: 'system', content: 'Summarise the conversation in three sentences.' },
    { role: 'user', content: `Topic: ${config.topic}\n${summaryContext(transcript)}` },
  ]);
  return { transcript, summary };
}

/**
 * Runs one job, reporting progress (0..1, rising) after every LLM step but the last: the result,
 * written once, sets it to 1, so a progress write and event of 1 just before it would only cost.
 */
export async function runJob(job: CreateJobBody, llm: Llm, progress: Progress): Promise<unknown> {
  if (job.type === 'completion') {
    const messages: ChatMessage[] = [
      ...(job.config.system ? [{ role: 'system' as const, content: job.config.system }] : []),
      { role: 'user', content: job.config.prompt },
    ];
    const text = await llm.complete(messages);
    return { text };
  }
  return runAgents(job.type, job.config, llm, progress);
}
