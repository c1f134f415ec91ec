import { createTaskBodySchema, toFieldProblems } from './index';

const valid = { title: 'Write report', description: 'Quarterly numbers', priority: 'low' };

function problems(body: unknown) {
  const result = createTaskBodySchema.safeParse(body);
  if (result.success) throw new Error('expected the body to be rejected');
  return toFieldProblems(result.error);
}

describe('createTaskBodySchema', () => {
  it('accepts a valid body and keeps an ISO due date', () => {
    expect(createTaskBodySchema.parse({ ...valid, due_date: '2026-12-01' })).toEqual({
      ...valid,
      due_date: '2026-12-01',
    });
    expect(createTaskBodySchema.parse({ ...valid, due_date: '2026-12-01T09:00:00Z' }).due_date).toBe(
      '2026-12-01T09:00:00Z',
    );
  });

  it('trims and strips control characters, keeping newlines and tabs in the description', () => {
    const parsed = createTaskBodySchema.parse({
      title: '  Ship\u0000 it\u0007 ',
      description: ' line one\r\n\tline two\u001b ',
      priority: 'low',
    });
    expect(parsed.title).toBe('Ship it');
    expect(parsed.description).toBe('line one\n\tline two');
  });

  it('treats a title that is empty after sanitizing as empty', () => {
    expect(problems({ ...valid, title: ' \u0001 ' })).toEqual([
      { field: 'title', message: 'must not be empty' },
    ]);
  });

  it('enforces 200 characters for a title and 2000 for a description', () => {
    expect(createTaskBodySchema.safeParse({ ...valid, title: 'x'.repeat(200) }).success).toBe(true);
    expect(problems({ ...valid, title: 'x'.repeat(201) })[0]).toEqual({
      field: 'title',
      message: 'must be at most 200 characters',
    });
    expect(problems({ ...valid, description: 'x'.repeat(2001) })[0]?.field).toBe('description');
  });

  it('reads priority case-insensitively and stores it lowercase', () => {
    expect(createTaskBodySchema.parse({ ...valid, priority: ' HIGH ' }).priority).toBe('high');
    expect(problems({ ...valid, priority: 'urgent' })).toEqual([
      { field: 'priority', message: 'must be one of low, medium, high' },
    ]);
  });

  it('rejects a due date that is not ISO 8601', () => {
    expect(problems({ ...valid, due_date: 'tomorrow' })).toEqual([
      { field: 'due_date', message: 'must be an ISO 8601 date or date-time' },
    ]);
  });

  it('names every missing field and every unknown one', () => {
    expect(problems({ owner: 'eve' })).toEqual(
      expect.arrayContaining([
        { field: 'title', message: 'is required' },
        { field: 'description', message: 'is required' },
        { field: 'priority', message: 'is required' },
        { field: 'owner', message: 'is not an allowed field' },
      ]),
    );
  });
});
