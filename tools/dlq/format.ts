import type { DlqMessage } from './domain';
import type { RedriveResult } from './sqs';

/** Bodies can carry user prompts: the text view shows this much of a body (or a reason) at most. */
export const PREVIEW_CHARS = 200;

/** One line of at most `limit` characters: whitespace runs and control characters collapse to a space. */
export function preview(text: string, limit = PREVIEW_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  if (line.length <= limit) return line;
  return `${line.slice(0, limit)}… (${text.length} chars)`;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** A plain-text table: left-aligned columns two spaces apart, a header row, no trailing blanks. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export interface DlqSummary {
  name: string;
  depth: number;
  inFlight: number;
  sources: string[];
}

export function formatDlqTable(dlqs: DlqSummary[]): string {
  if (dlqs.length === 0) return 'No dead-letter queues found.';
  return formatTable(
    ['DLQ', 'DEPTH', 'IN FLIGHT', 'SOURCES'],
    dlqs.map((dlq) => [
      dlq.name,
      String(dlq.depth),
      String(dlq.inFlight),
      dlq.sources.length > 0 ? dlq.sources.join(', ') : '-',
    ]),
  );
}

/** The human view of peeked messages: a header line, then a short block per message. */
export function formatPeek(
  queue: string,
  messages: DlqMessage[],
  options: { depth: number; fifo: boolean },
): string {
  const lines = [`${queue}: showing ${messages.length} of ~${options.depth} message(s)`];
  messages.forEach((message, index) => {
    const facts = [
      `id ${message.messageId}`,
      `kind ${message.failureKind ?? '-'}`,
      `receive_count ${message.receiveCount ?? '-'}`,
      ...(message.redriveCount > 0 ? [`redriven ${plural(message.redriveCount, 'time')}`] : []),
      `sent ${message.sentAt ?? '-'}`,
      ...(message.groupId ? [`group ${message.groupId}`] : []),
    ];
    lines.push('', `${index + 1}. ${facts.join('  ')}`);
    lines.push(`   reason  ${message.failureReason ? preview(message.failureReason) : '-'}`);
    const attributes = Object.entries(message.attributes);
    if (attributes.length > 0) {
      lines.push(
        `   attrs   ${attributes.map(([name, value]) => `${name}=${preview(value, 60)}`).join(' ')}`,
      );
    }
    lines.push(`   body    ${preview(message.body)}`);
  });
  if (options.fifo && messages.length < options.depth) {
    lines.push(
      '',
      'FIFO: only the first message(s) of each message group can be read without consuming them;',
      'the rest wait behind them in order. Redrive moves them all.',
    );
  }
  return lines.join('\n');
}

/** The human view of a redrive: each failure, then one summary line. */
export function formatRedriveResult(result: RedriveResult): string {
  const lines = result.failures.map((failure) => `failed ${failure.messageId}: ${failure.reason}`);
  const task = result.taskHandle ? ` (task ${result.taskHandle})` : '';
  // Messages that failed again are not moved a second time: say so, or the DLQ looks unmoved.
  const returned =
    result.returned > 0
      ? `; ${plural(result.returned, 'message')} came back to the DLQ while it ran and stayed there`
      : '';
  lines.push(
    `moved ${result.moved}, failed ${result.failed} -> ${result.destination} via ${result.method}${task}${returned}`,
  );
  return lines.join('\n');
}
