import * as z from 'zod/mini';
import {
  createJobBodySchema,
  createPodcastBodySchema,
  createTaskBodySchema,
  line,
  parseMessage,
  text,
  toFieldProblems,
} from './index';

function problems(schema: z.ZodMiniType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the input to be rejected');
  return toFieldProblems(result.error, input);
}

const task = { title: 'Write report', description: 'Quarterly numbers', priority: 'low' };

describe('toFieldProblems', () => {
  // zod 4 leaves the input out of its issues: without it every type mismatch read "is required".
  it('says "is required" only for a missing field, and names the expected type otherwise', () => {
    expect(problems(createTaskBodySchema, { ...task, title: 5 })).toEqual([
      { field: 'title', message: 'must be a string' },
    ]);
    expect(problems(createTaskBodySchema, { description: 'x', priority: 'low' })).toEqual([
      { field: 'title', message: 'is required' },
    ]);
    expect(
      problems(createPodcastBodySchema, { title: 't', frequency: '7', latest_episode_date: '2026-01-01' }),
    ).toEqual([{ field: 'frequency', message: 'must be a number' }]);
  });

  it('names a nested field of the wrong type by its path, array indexes included', () => {
    expect(
      problems(createJobBodySchema, { type: 'panel', config: { topic: 't', agents: null, rounds: 1 } }),
    ).toEqual([{ field: 'config.agents', message: 'must be a number' }]);
    const batch = z.strictObject({ items: z.array(z.strictObject({ input: z.string() })) });
    expect(problems(batch, { items: [{ input: 'a' }, { input: [] }, {}] })).toEqual([
      { field: 'items.1.input', message: 'must be a string' },
      { field: 'items.2.input', message: 'is required' },
    ]);
  });

  it('says a body that is not an object must be one, whatever the schema', () => {
    for (const input of [false, 0, null, 'x', [1]]) {
      expect(problems(createTaskBodySchema, input)).toEqual([
        { field: '(body)', message: 'must be a JSON object' },
      ]);
      expect(problems(createJobBodySchema, input)).toEqual([
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    }
  });

  it('calls a number that overflowed to Infinity what it is', () => {
    expect(
      problems(
        createPodcastBodySchema,
        JSON.parse('{"title":"t","frequency":1e400,"latest_episode_date":"2026-01-01"}'),
      ),
    ).toEqual([{ field: 'frequency', message: 'must be a finite number' }]);
  });

  it('keeps a custom message and still reads "is required" when no input is given', () => {
    expect(problems(createJobBodySchema, { type: 'essay', config: {} })).toEqual([
      { field: 'type', message: 'must be one of simulation, panel, discussion, completion' },
    ]);
    const result = createTaskBodySchema.safeParse({ ...task, title: 5 });
    expect(result.success || toFieldProblems(result.error)).toEqual([
      { field: 'title', message: 'is required' },
    ]);
  });

  it('gives poison reasons the same wording', () => {
    expect(() => parseMessage('{"n":"1"}', z.object({ n: z.number() }))).toThrow(
      'Message does not match a known schema: n must be a number',
    );
  });
});

describe('line and text', () => {
  it.each([
    ['a lone high surrogate', 'ab\uD800c'],
    ['a lone low surrogate', '\uDC00'],
    ['a reversed pair', '\uDC00\uD800'],
  ])('refuse %s, which no UTF-8 store can hold', (_, value) => {
    for (const schema of [line(50), text(50)]) {
      expect(problems(schema, value)).toEqual([
        { field: '(body)', message: 'must be valid Unicode text (it holds a lone surrogate)' },
      ]);
    }
  });

  it('accept characters outside the BMP written as a surrogate pair', () => {
    expect(line(50).parse('launch \uD83D\uDE80')).toBe('launch 🚀');
    expect(text(50).parse('a\n\uD83D\uDE80')).toBe('a\n🚀');
  });
});
