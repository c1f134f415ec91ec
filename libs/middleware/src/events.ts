import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { publishJson } from '@offload/aws/sns';
import { describeError } from '@offload/errors';
import type { LiveEvent } from '@offload/messages';
import { logger } from './logger';

/** Publishes live-update events. Never throws: an event lost must never fail the work it reports. */
export interface EventPublisher {
  publish(event: LiveEvent): Promise<void>;
}

// Its own buffer, flushed at each failure, so the count also leaves HTTP handlers (whose stack
// flushes no metrics) and carries only the `service` dimension its alarm watches.
const failures = new Metrics({ namespace: 'Offload', singleMetric: true, logger });

/**
 * Publishes each event to the stage's events topic with its `type` as a message attribute (for
 * subscription filters). A failure is logged with the event's identity and counted as
 * `EventsPublishFailed` (each service alarms on it); the caller carries on.
 */
export function eventPublisher(topicArn: string, publish = publishJson): EventPublisher {
  return {
    async publish(event) {
      try {
        await publish(topicArn, event, { type: event.type });
      } catch (error) {
        logger.error('Publishing an event failed; the work goes on', {
          event_type: event.type,
          event_id: event.id,
          reason: describeError(error),
        });
        try {
          failures.addMetric('EventsPublishFailed', MetricUnit.Count, 1);
        } catch {
          // Counting is best effort too.
        }
      }
    },
  };
}

/** For code paths that publish nothing (and unit tests that do not look). */
export const noEvents: EventPublisher = { publish: async () => undefined };
