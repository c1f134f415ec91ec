import type { Clock } from '@offload/config';
import { OffloadError } from '@offload/errors';
import {
  clientMessage,
  clientRequestSchema,
  toFieldProblems,
  type ClientError,
  type ClientRequest,
  type LiveEvent,
} from '@offload/messages';

/** What a subscription is to: one job or one batch job. */
export type Target = { kind: 'job'; id: string } | { kind: 'batch_job'; id: string };

/** The key subscriptions are stored under, shared by the subscribe route and the notifier. */
export const targetKey = (target: Target) => `${target.kind}#${target.id}`;

/** The target an event is about. */
export function targetOf(event: LiveEvent): Target {
  return event.type === 'job.updated'
    ? { kind: 'job', id: event.data.job_id }
    : { kind: 'batch_job', id: event.data.batch_job_id };
}

const idField = (target: Target) =>
  target.kind === 'job' ? { job_id: target.id } : { batch_job_id: target.id };

export interface Connection {
  connection_id: string;
  owner: string;
  /** Epoch seconds: API Gateway closes a connection after 2 hours, and the record expires with it. */
  expires_at: number;
}

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  get(connectionId: string): Promise<Connection | undefined>;
  /** Removes the connection and every subscription it holds. */
  remove(connectionId: string): Promise<void>;
  subscribe(key: string, connection: Connection): Promise<void>;
  unsubscribe(key: string, connectionId: string): Promise<void>;
  subscribers(key: string): Promise<Connection[]>;
}

/** The current state of a job or batch job, as the event its next change would publish. */
export interface StateSource {
  current(target: Target): Promise<LiveEvent | undefined>;
}

/** Sends to one connection; 'gone' when API Gateway says it is closed (410). */
export type Push = (connectionId: string, message: unknown) => Promise<'sent' | 'gone'>;

/** How long API Gateway keeps a WebSocket connection open at most. */
export const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60;

export function newConnection(connectionId: string, owner: string, now: Date): Connection {
  return {
    connection_id: connectionId,
    owner,
    expires_at: Math.floor(now.getTime() / 1000) + CONNECTION_LIFETIME_SECONDS,
  };
}

const isLive = (connection: Connection, now: Date) => connection.expires_at * 1000 > now.getTime();

/** Reads a client frame: the request, or the bad_request error to answer. */
export function parseRequest(body: string | undefined): { request: ClientRequest } | { error: ClientError } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { error: { type: 'error', code: 'bad_request', message: 'Messages must be JSON' } };
  }
  const parsed = clientRequestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = toFieldProblems(parsed.error).map((p) => `${p.field} ${p.message}`);
    return {
      error: {
        type: 'error',
        code: 'bad_request',
        message:
          'Send {"action":"subscribe"|"unsubscribe","job_id":"<uuid>"} or the same with "batch_job_id"' +
          (problems.length > 0 ? ` (${problems.join('; ')})` : ''),
      },
    };
  }
  return { request: parsed.data };
}

export const targetOfRequest = (request: ClientRequest): Target =>
  'job_id' in request ? { kind: 'job', id: request.job_id } : { kind: 'batch_job', id: request.batch_job_id };

export interface RouteDeps {
  connections: ConnectionStore;
  source: StateSource;
  push: Push;
  clock: Clock;
}

export type RouteOutcome = 'subscribed' | 'unsubscribed' | 'not_found' | 'bad_request' | 'no_connection';

/**
 * A subscribe or unsubscribe frame. Subscribing checks the caller owns the target (anyone else's
 * id is not_found, and nothing is subscribed), records the subscription, and only then reads the
 * state it sends: a change that lands in between is delivered by the notifier, so the final
 * state can never fall between the two.
 */
export async function handleRequest(
  deps: RouteDeps,
  connectionId: string,
  body: string | undefined,
): Promise<RouteOutcome> {
  const parsed = parseRequest(body);
  if ('error' in parsed) {
    await deps.push(connectionId, parsed.error);
    return 'bad_request';
  }
  const target = targetOfRequest(parsed.request);
  const key = targetKey(target);
  if (parsed.request.action === 'unsubscribe') {
    await deps.connections.unsubscribe(key, connectionId);
    return 'unsubscribed';
  }
  const connection = await deps.connections.get(connectionId);
  // Its record expired or was removed: API Gateway is about to close it anyway.
  if (!connection || !isLive(connection, deps.clock.now())) return 'no_connection';
  const before = await deps.source.current(target);
  if (!before || before.data.owner !== connection.owner) {
    const what = target.kind === 'job' ? 'Job' : 'Batch job';
    await deps.push(connectionId, {
      type: 'error',
      code: 'not_found',
      message: `${what} ${target.id} not found`,
      ...idField(target),
    } satisfies ClientError);
    return 'not_found';
  }
  await deps.connections.subscribe(key, connection);
  const state = (await deps.source.current(target)) ?? before;
  await deps.push(connectionId, clientMessage(state));
  return 'subscribed';
}

/** Some subscribers could not be reached for a reason other than being gone: retry the event. */
export class DeliveryError extends OffloadError {}

/**
 * Sends one event to every live connection its owner subscribed with. A connection API Gateway
 * reports gone (410) is removed with its subscriptions. Any other failure throws after the rest
 * were tried, so the queue redelivers the event; connections that already had it get it again,
 * which is harmless: each message is a whole state, not a delta.
 */
export async function deliver(
  deps: Pick<RouteDeps, 'connections' | 'push' | 'clock'>,
  event: LiveEvent,
): Promise<{ sent: number; gone: number }> {
  const now = deps.clock.now();
  const subscribers = (await deps.connections.subscribers(targetKey(targetOf(event)))).filter(
    (c) => c.owner === event.data.owner && isLive(c, now),
  );
  const message = clientMessage(event);
  const results = await Promise.allSettled(
    subscribers.map(async (c) => {
      const result = await deps.push(c.connection_id, message);
      if (result === 'gone') await deps.connections.remove(c.connection_id);
      return result;
    }),
  );
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) {
    throw new DeliveryError(`${failures.length} of ${subscribers.length} connections failed`, {
      cause: failures[0],
    });
  }
  const sent = results.filter((r) => r.status === 'fulfilled' && r.value === 'sent').length;
  return { sent, gone: subscribers.length - sent };
}
