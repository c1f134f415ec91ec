import { describeError, HttpError, NotFoundError, OffloadError, ValidationError } from './index';

describe('error hierarchy', () => {
  it('names each error after its class and keeps the cause', () => {
    const cause = new Error('socket hang up');
    const error = new OffloadError('could not send', { cause });
    expect(error.name).toBe('OffloadError');
    expect(error.cause).toBe(cause);
    expect(new NotFoundError().name).toBe('NotFoundError');
  });

  it('exposes 4xx details and hides 5xx', () => {
    const invalid = new ValidationError([{ field: 'title', message: 'is required' }]);
    expect(invalid.status).toBe(400);
    expect(invalid.expose).toBe(true);
    expect(new HttpError(503, 'unavailable', 'db down').expose).toBe(false);
  });

  it('describes a cause chain on one line', () => {
    const error = new OffloadError('outer', { cause: new TypeError('inner') });
    expect(describeError(error)).toBe('OffloadError: outer <- TypeError: inner');
    expect(describeError('plain')).toBe('plain');
  });
});
