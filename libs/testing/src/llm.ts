import type { ChatMessage, Llm } from '@offload/llm';

/** A deterministic LLM for unit tests: answers `reply N`; fails the first `failures` calls. */
export class ScriptedLlm implements Llm {
  readonly calls: ChatMessage[][] = [];
  constructor(private failures = 0) {}
  async complete(messages: ChatMessage[]) {
    this.calls.push(messages);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('503 upstream overloaded');
    }
    return `reply ${this.calls.length}`;
  }
}
