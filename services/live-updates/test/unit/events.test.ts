import type { SQSEvent } from 'aws-lambda';
import { liveEvent, parseMessage } from '@offload/messages';
import { parseRequest } from '../../src/domain/live';
import connect from '../../events/connect.json';
import notify from '../../events/notify.json';
import subscribe from '../../events/subscribe.json';

// The sample events feed `serverless invoke local`; these checks keep them valid as schemas move.
describe('live-updates sample events', () => {
  it('connect.json carries a development key in the query string', () => {
    expect(connect.queryStringParameters.key).toBe('dev-key-alice');
  });

  it('subscribe.json is a valid subscribe frame', () => {
    expect(parseRequest(subscribe.body)).toEqual({
      request: expect.objectContaining({ action: 'subscribe' }),
    });
  });

  it('notify.json holds v1 events of the notifier queue', () => {
    for (const record of (notify as SQSEvent).Records)
      expect(parseMessage(record.body, liveEvent).version).toBe('1');
  });
});
