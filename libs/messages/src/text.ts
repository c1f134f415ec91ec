import * as z from 'zod/mini';

// C0/C1 control characters, except tab and newline which multi-line text legitimately carries.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_EXCEPT_TAB_NEWLINE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ALL_CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;

// A UTF-16 surrogate without its pair: no UTF-8 encoding exists for it, so DynamoDB, SQS and every
// client downstream would refuse or mangle it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string is well-formed UTF-16 (ES2024's String.prototype.isWellFormed). */
export const isWellFormed = (value: string) => !LONE_SURROGATE.test(value);

const wellFormedString = () =>
  z.string().check(z.refine(isWellFormed, 'must be valid Unicode text (it holds a lone surrogate)'));

export function sanitizeLine(value: string): string {
  return value.replace(ALL_CONTROL, '').trim();
}

export function sanitizeMultiline(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(CONTROL_EXCEPT_TAB_NEWLINE, '').trim();
}

/** Well-formed text, sanitized, then required non-empty and at most `max` characters. */
const sanitized = (sanitize: (value: string) => string, max: number) =>
  z.pipe(
    z.pipe(wellFormedString(), z.transform(sanitize)),
    z
      .string()
      .check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`)),
  );

/** A required single-line string: control characters stripped, trimmed, then length-checked. */
export const line = (max: number) => sanitized(sanitizeLine, max);

/** A required multi-line string: like `line` but keeps tabs and newlines. */
export const text = (max: number) => sanitized(sanitizeMultiline, max);

/** An ISO 8601 date (`2026-12-01`) or date-time with offset (`2026-12-01T09:00:00Z`). */
export const isoDateOrDateTime = () =>
  z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date or date-time',
  });
