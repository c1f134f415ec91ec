import { ValidationError } from '@offload/errors';
import { uuidPathParameter } from './pathParameters';

describe('uuidPathParameter', () => {
  const id = '5ebe2104-3b17-46b4-8d39-710482a15918';

  it('answers the parameter when it is a UUID', () => {
    expect(uuidPathParameter({ pathParameters: { id } })).toBe(id);
    expect(uuidPathParameter({ pathParameters: { jobId: id } }, 'jobId')).toBe(id);
  });

  it('refuses a missing or malformed one with a 400 naming it', () => {
    for (const pathParameters of [undefined, {}, { id: 'not-a-uuid' }]) {
      expect(() => uuidPathParameter({ pathParameters })).toThrow(ValidationError);
    }
    try {
      uuidPathParameter({ pathParameters: { id: '42' } });
    } catch (error) {
      expect((error as ValidationError).details).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    }
    expect.assertions(4);
  });
});
