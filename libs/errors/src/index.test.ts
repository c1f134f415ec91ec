import {
  describeError,
  INTERNAL_FAILURE,
  NotFoundError,
  OffloadError,
  PublicFailureError,
  RequestError,
  ConflictError,
  publicFailureOf,
  ValidationError,
} from './index';

describe('error hierarchy', () => {
  it('names each error after its class and keeps the cause', () => {
    const cause = new Error('socket hang up');
    const error = new OffloadError('could not send', { cause });
    expect(error.name).toBe('OffloadError');
    expect(error.cause).toBe(cause);
    expect(new NotFoundError().name).toBe('NotFoundError');
  });

  it('gives request errors a public code and details but no transport status', () => {
    const invalid = new ValidationError([{ field: 'title', message: 'is required' }]);
    expect(invalid).toBeInstanceOf(RequestError);
    expect(invalid).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'title', message: 'is required' }],
    });
    expect('status' in invalid).toBe(false);
    const cause = new Error('stored schedule unreadable');
    const conflict = new ConflictError('podcast_unreadable', 'Cannot read it', { cause });
    expect(conflict).toMatchObject({ name: 'ConflictError', code: 'podcast_unreadable', cause });
  });

  it('describes a cause chain on one line', () => {
    const error = new OffloadError('outer', { cause: new TypeError('inner') });
    expect(describeError(error)).toBe('OffloadError: outer <- TypeError: inner');
    expect(describeError('plain')).toBe('plain');
  });

  it('finds the public failure anywhere in the chain and keeps internals out of it', () => {
    const denied = new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized');
    const wrapped = new OffloadError('could not send result', {
      cause: new PublicFailureError('result_undeliverable', 'The result could not be delivered', {
        cause: denied,
      }),
    });
    expect(publicFailureOf(wrapped)).toEqual({
      code: 'result_undeliverable',
      message: 'The result could not be delivered',
    });
    expect(publicFailureOf(denied)).toEqual(INTERNAL_FAILURE);
    expect(JSON.stringify(publicFailureOf(denied))).not.toContain('123456789012');
    expect(publicFailureOf('a string')).toEqual(INTERNAL_FAILURE);
  });
});
