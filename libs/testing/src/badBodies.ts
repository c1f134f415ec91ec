import fc from 'fast-check';
import type * as z from 'zod/mini';

/**
 * Generators of request bodies that are certainly invalid, built from a zod body schema: a valid
 * body with exactly one mutation (a field of the wrong type, missing, out of range, too long, an
 * unknown or forbidden key, deep nesting, a lone surrogate), or a body invalid as a whole (not
 * JSON, a JSON scalar or array, too large, the wrong Content-Type).
 */

/** The schema constraints the generators use, read from zod's definitions. */
type Shape =
  | { kind: 'object'; fields: Record<string, { shape: Shape; optional: boolean }> }
  | { kind: 'union'; discriminator: string; options: { tag: string; shape: Shape & { kind: 'object' } }[] }
  | { kind: 'string'; min: number; max?: number; format?: 'date' | 'date_or_datetime' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'literal'; value: string }
  | { kind: 'number'; int: boolean; min?: number; max?: number }
  | { kind: 'array'; element: Shape; min: number; max?: number };

interface ZodDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  out?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  element?: z.core.$ZodType;
  entries?: Record<string, string>;
  values?: unknown[];
  format?: string;
  checks?: {
    _zod: { def: { check: string; minimum?: number; maximum?: number; value?: number; format?: string } };
  }[];
}
const defOf = (schema: z.core.$ZodType) => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
const checksOf = (def: ZodDef) => (def.checks ?? []).map((check) => check._zod.def);

/** Reads the constraints this project's body schemas use; throws on anything it does not know. */
export function shapeOf(schema: z.core.$ZodType): Shape {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return {
        kind: 'object',
        fields: Object.fromEntries(
          Object.entries(def.shape ?? {}).map(([key, field]) => {
            // A field with a default may be left out, exactly like an optional one.
            const optional = defOf(field).type === 'optional' || defOf(field).type === 'default';
            return [key, { shape: shapeOf(optional ? defOf(field).innerType! : field), optional }];
          }),
        ),
      };
    case 'union':
      if (def.discriminator) {
        return {
          kind: 'union',
          discriminator: def.discriminator,
          options: (def.options ?? []).map((option) => {
            const shape = shapeOf(option) as Shape & { kind: 'object' };
            const tag = shape.fields[def.discriminator!]?.shape;
            if (tag?.kind !== 'literal') throw new Error('a discriminated option without a literal tag');
            return { tag: tag.value, shape };
          }),
        };
      }
      // The one plain union in the body schemas: an ISO date or date-time.
      return { kind: 'string', min: 1, format: 'date_or_datetime' };
    case 'pipe': {
      // line()/text(): string -> sanitize -> length checks; priority: string -> lower-case -> enum.
      const out = shapeOf(def.out!);
      if (out.kind === 'string' && defOf(def.in!).type === 'string') {
        // z.pipe(z.iso.date(), window checks): the input's format is what a valid body must meet.
        const input = shapeOf(def.in!);
        if (input.kind === 'string' && input.format) return input;
      }
      if (out.kind === 'enum' || out.kind === 'string') return out;
      return shapeOf(def.in!);
    }
    case 'string': {
      const checks = checksOf(def);
      return {
        kind: 'string',
        min: checks.find((c) => c.check === 'min_length')?.minimum ?? 0,
        max: checks.find((c) => c.check === 'max_length')?.maximum,
        ...(def.format === 'date' && { format: 'date' as const }),
      };
    }
    case 'enum':
      return { kind: 'enum', values: Object.values(def.entries ?? {}) };
    case 'literal':
      return { kind: 'literal', value: String(def.values?.[0]) };
    case 'number': {
      const checks = checksOf(def);
      return {
        kind: 'number',
        int: checks.some((c) => c.check === 'number_format'),
        min: checks.find((c) => c.check === 'greater_than')?.value,
        max: checks.find((c) => c.check === 'less_than')?.value,
      };
    }
    case 'array': {
      const checks = checksOf(def);
      return {
        kind: 'array',
        element: shapeOf(def.element!),
        min: checks.find((c) => c.check === 'min_length')?.minimum ?? 0,
        max: checks.find((c) => c.check === 'max_length')?.maximum,
      };
    }
    default:
      throw new Error(`badBodies: no generator for zod type ${def.type}`);
  }
}

/** JSON text spliced into a body as it is (`1e400`, `NaN`, 5,000 nested brackets). */
class Raw {
  constructor(readonly text: string) {}
}

function serialize(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) =>
    item instanceof Raw ? `\u0000raw${raws.push(item.text) - 1}\u0000` : item,
  );
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_match, index: string) => raws[Number(index)]!);
}

const WORD = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,30}[A-Za-z0-9]$/);

/** Valid values: plain letters (unchanged by sanitizing), in range, a few array items at most. */
function valid(shape: Shape): fc.Arbitrary<unknown> {
  switch (shape.kind) {
    case 'object':
      return fc.record(
        Object.fromEntries(Object.entries(shape.fields).map(([key, field]) => [key, valid(field.shape)])),
        {
          requiredKeys: Object.entries(shape.fields)
            .filter(([, field]) => !field.optional)
            .map(([key]) => key),
        },
      );
    case 'union':
      return fc.oneof(...shape.options.map((option) => valid(option.shape)));
    case 'string':
      if (shape.format) {
        // Dates near now: a podcast's latest episode date must lie within its window (from 2000 to a
        // year ahead of today).
        const day = 86_400_000;
        return fc
          .date({
            min: new Date(Date.now() - 5 * 365 * day),
            max: new Date(Date.now() + 300 * day),
            noInvalidDate: true,
          })
          .map((date) => (shape.format === 'date' ? date.toISOString().slice(0, 10) : date.toISOString()));
      }
      return WORD.filter(
        (word) => word.length >= Math.max(1, shape.min) && word.length <= (shape.max ?? 1000),
      );
    case 'enum':
      return fc.constantFrom(...shape.values);
    case 'literal':
      return fc.constant(shape.value);
    case 'number':
      return fc.integer({ min: shape.min ?? 0, max: shape.max ?? 1000 });
    case 'array':
      return fc.array(valid(shape.element), {
        minLength: Math.max(1, shape.min),
        maxLength: Math.min(3, shape.max ?? 3),
      });
  }
}

const repeat = (length: number) => 'x'.repeat(length);
const nested = (depth: number, open: string, close: string) =>
  new Raw(open.repeat(depth) + close.repeat(depth));

/** Values certainly wrong for a field of this shape, each with a label for failure reports. */
function wrongValues(shape: Shape): fc.Arbitrary<{ label: string; value: unknown; field?: string }> {
  const wrongTypes: unknown[] = shape.kind === 'number' ? ['5', true, null, {}, []] : [5, -0, true, null, {}];
  const arbitraries: fc.Arbitrary<{ label: string; value: unknown; field?: string }>[] = [
    fc.constantFrom(...wrongTypes).map((value) => ({ label: 'wrong type', value })),
    fc.constantFrom(...(shape.kind === 'array' ? [{}, 'x', 1] : [[], [1], ['x']])).map((value) => ({
      label: 'wrong type',
      value,
    })),
    fc
      .tuple(fc.integer({ min: 20, max: 3000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
      .map(([depth, [open, close]]) => ({
        label: `nested ${depth} deep`,
        value:
          close === ']'
            ? nested(depth, open!, close!)
            : new Raw(`${open!.repeat(depth)}1${close!.repeat(depth)}`),
      })),
  ];
  switch (shape.kind) {
    case 'string':
      arbitraries.push(
        fc.constantFrom('', '   ', '\u0000', '\u0000\u0007\u001b', '\t\n').map((value) => ({
          label: 'empty after sanitizing',
          value,
        })),
        fc
          .tuple(WORD, fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF'))
          .map(([word, surrogate]) => ({ label: 'lone surrogate', value: `${word}${surrogate}` })),
      );
      if (shape.max !== undefined) {
        const max = shape.max;
        arbitraries.push(
          fc
            .integer({ min: max + 1, max: max + 100 })
            .map((length) => ({ label: `${length} characters`, value: repeat(length) })),
        );
      }
      if (shape.format) {
        arbitraries.push(
          fc
            .constantFrom(
              '2026-13-01',
              '2026-02-30',
              '2026-1-1',
              '01/12/2026',
              'tomorrow',
              '2026-12-01T25:00:00Z',
              '20261201',
            )
            .map((value) => ({ label: 'not an ISO date', value })),
        );
      }
      break;
    case 'enum':
      arbitraries.push(
        fc
          .constantFrom('urgent', 'none', '', 'l0w', shape.values.join(','))
          .map((value) => ({ label: 'not one of the values', value })),
      );
      break;
    case 'literal':
      arbitraries.push(
        fc
          .constantFrom('essay', '', shape.value.toUpperCase(), `${shape.value} `)
          .map((value) => ({ label: 'unknown tag', value })),
      );
      break;
    case 'number':
      arbitraries.push(
        fc
          .constantFrom('1e400', '-1e400')
          .map((text) => ({ label: `overflows to Infinity: ${text}`, value: new Raw(text) })),
        // Not JSON numbers at all: the parser, not the schema, refuses them.
        fc.constantFrom('NaN', 'Infinity', '-Infinity', '0x10', '+1', '01', '1.', '.5').map((text) => ({
          label: `number text ${text}`,
          value: new Raw(text),
          field: '(body)',
        })),
      );
      if (shape.min !== undefined) {
        const min = shape.min;
        arbitraries.push(
          fc
            .integer({ min: min - 1000, max: min - 1 })
            .map((value) => ({ label: 'below the minimum', value })),
        );
      }
      if (shape.max !== undefined) {
        const max = shape.max;
        arbitraries.push(
          fc
            .integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER })
            .map((value) => ({ label: 'above the maximum', value })),
          fc.constant({ label: 'beyond a safe integer', value: 2 ** 53 }),
        );
      }
      if (shape.int) {
        arbitraries.push(
          fc
            .double({ min: shape.min ?? 0, max: shape.max ?? 1000, noNaN: true })
            .filter((value) => !Number.isInteger(value))
            .map((value) => ({ label: 'not an integer', value })),
        );
      }
      break;
    case 'array':
      if (shape.min > 0) arbitraries.push(fc.constant({ label: 'empty array', value: [] }));
      break;
    default:
      break;
  }
  return fc.oneof(...arbitraries);
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor'];

/**
 * One mutation per case: a prototype key nested in a generated value is the forbidden-key case's to
 * test (the JSON parser rightly names that key before anything else is looked at).
 */
const withoutPrototypeKeys = (value: unknown) =>
  !/"(__proto__|constructor)"\s*:/.test(JSON.stringify(value) ?? '');

/** Keys no body schema allows, the prototype-polluting ones among them. */
const UNKNOWN_KEY = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '',
    ' ',
    '\u0000',
    'title ',
    'Title',
    'owner',
    'status',
    '\uD800',
  ),
  fc.stringMatching(/^[a-z_]{1,12}$/),
);

export interface Mutation {
  /** What was done, for failure reports. */
  label: string;
  /**
   * The fields a 400 may name (one of them, or a field inside one): the mutated field's path, or
   * `(body)` for a body-level problem.
   */
  fields: string[];
}

type Mutated = { body: unknown; mutation: Mutation };

/** A valid value of `shape` with one mutation somewhere inside it. */
function mutated(shape: Shape, path: string[]): fc.Arbitrary<Mutated> {
  const here = path.length ? path.join('.') : '(body)';
  const candidates: fc.Arbitrary<Mutated>[] = [];
  if (path.length > 0) {
    candidates.push(
      wrongValues(shape).map(({ label, value, field }) => ({
        body: value,
        mutation: { label, fields: [field ?? here] },
      })),
    );
  }
  switch (shape.kind) {
    case 'object': {
      const keys = Object.keys(shape.fields);
      const required = keys.filter((key) => !shape.fields[key]!.optional);
      // A missing required field.
      const missing = required.map((key) =>
        valid(shape).map((body) => {
          const copy = { ...(body as Record<string, unknown>) };
          delete copy[key];
          return { body: copy, mutation: { label: `missing ${key}`, fields: [[...path, key].join('.')] } };
        }),
      );
      // An unknown field.
      const unknown = fc
        .tuple(
          valid(shape),
          UNKNOWN_KEY.filter((key) => !keys.includes(key)),
          fc.jsonValue({ maxDepth: 2 }).filter(withoutPrototypeKeys),
        )
        .map(([body, key, value]) => {
          const copy = { ...(body as Record<string, unknown>) };
          Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
          // The JSON parser refuses prototype keys naming the key alone, without its path.
          const fields = [[...path, key].join('.'), ...(PROTOTYPE_KEYS.includes(key) ? [key] : [])];
          return { body: copy, mutation: { label: `unknown field ${JSON.stringify(key)}`, fields } };
        });
      // One field mutated, the rest valid.
      const one = keys.map((key) =>
        fc.tuple(valid(shape), mutated(shape.fields[key]!.shape, [...path, key])).map(([body, inner]) => ({
          body: { ...(body as Record<string, unknown>), [key]: inner.body },
          mutation: inner.mutation,
        })),
      );
      // Weighted so a schema's many fields are not drowned by "missing X" cases.
      candidates.push(
        ...(missing.length ? [fc.oneof(...missing)] : []),
        unknown,
        fc.oneof(...one),
        fc.oneof(...one),
        fc.oneof(...one),
      );
      break;
    }
    case 'union':
      // Mutations of one option's body, its tag included (an unknown tag fails the discriminator).
      candidates.push(...shape.options.map((option) => mutated(option.shape, path)));
      break;
    case 'array':
      if (shape.max !== undefined) {
        const max = shape.max;
        candidates.push(
          valid(shape.element).map((item) => ({
            body: Array.from({ length: max + 1 }, () => item),
            mutation: { label: `${max + 1} items`, fields: [here] },
          })),
        );
      }
      candidates.push(
        fc.tuple(valid(shape), mutated(shape.element, [...path, '0'])).map(([items, inner]) => ({
          body: [inner.body, ...(items as unknown[]).slice(1)],
          mutation: inner.mutation,
        })),
      );
      break;
    default:
      break;
  }
  return fc.oneof(...candidates);
}

export interface BadRequest {
  kind: 'field' | 'json' | 'size' | 'content-type';
  body: string;
  contentType: string | undefined;
  mutation: Mutation;
}

const JSON_TYPE = 'application/json';

/** Texts that are not JSON at all. */
function notJson(validBody: fc.Arbitrary<string>): fc.Arbitrary<{ label: string; text: string }> {
  return fc.oneof(
    validBody.chain((text) =>
      fc
        .integer({ min: 1, max: Math.max(1, text.length - 1) })
        .map((cut) => ({ label: 'truncated', text: text.slice(0, cut) })),
    ),
    validBody.map((text) => ({ label: 'trailing comma', text: text.replace(/}$/, ',}') })),
    validBody.map((text) => ({ label: 'single quotes', text: text.replace(/"/g, "'") })),
    validBody.map((text) => ({ label: 'byte order mark', text: `\uFEFF${text}` })),
    validBody.map((text) => ({ label: 'two documents', text: `${text}${text}` })),
    fc
      .constantFrom(
        'NaN',
        'undefined',
        '{',
        '}',
        '[',
        "{'a':1}",
        '{"a":1,}',
        '{"a"}',
        'tru',
        'nul',
        '\u0000',
        '--',
        '0x1F',
      )
      .map((text) => ({
        label: 'not JSON',
        text,
      })),
    fc
      .string({ minLength: 1, maxLength: 60, unit: 'binary' })
      .filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return text.trim().length > 0;
        }
      })
      .map((text) => ({ label: 'random text', text })),
  );
}

/** JSON texts that are not an object, whitespace and negative zero included: each is a 400. */
export const NOT_AN_OBJECT_JSON = [
  'false',
  '0',
  '-0',
  '0e0',
  ' false',
  'true',
  'null',
  '""',
  '"text"',
  '1',
  '-1.5e3',
  '[]',
  '[{}]',
  ' 0 ',
  '\n null',
];

/** Valid JSON that is not an object: scalars, arrays, and a valid body as a JSON string. */
function notAnObject(validBody: fc.Arbitrary<string>): fc.Arbitrary<{ label: string; text: string }> {
  return fc.oneof(
    fc.constantFrom(...NOT_AN_OBJECT_JSON).map((text) => ({
      label: 'JSON scalar or array',
      text,
    })),
    fc
      .jsonValue({ maxDepth: 2 })
      .filter((value) => value === null || typeof value !== 'object' || Array.isArray(value))
      .filter(withoutPrototypeKeys)
      .map((value) => ({
        label: 'JSON scalar or array',
        text: JSON.stringify(value) ?? 'null',
      })),
    validBody.map((text) => ({ label: 'the body as a JSON string', text: JSON.stringify(text) })),
    validBody.map((text) => ({ label: 'the body in an array', text: `[${text}]` })),
  );
}

const WRONG_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/jsonx',
  'json',
  'text/json',
];

export interface BadBodyOptions {
  /** The endpoint's body limit in bytes. */
  maxBytes: number;
}

/** Bad requests for an endpoint with a JSON body schema: every one must be a 4xx, none a side effect. */
export function badRequests(schema: z.core.$ZodType, { maxBytes }: BadBodyOptions): fc.Arbitrary<BadRequest> {
  const shape = shapeOf(schema);
  const validBody = valid(shape).map((body) => JSON.stringify(body));
  const bodyLevel =
    (kind: BadRequest['kind']) =>
    (item: { label: string; text: string }): BadRequest => ({
      kind,
      body: item.text,
      contentType: JSON_TYPE,
      mutation: { label: item.label, fields: ['(body)'] },
    });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: mutated(shape, []).map(({ body, mutation }) => ({
        kind: 'field' as const,
        body: serialize(body),
        contentType: JSON_TYPE,
        mutation,
      })),
    },
    { weight: 1, arbitrary: notJson(validBody).map(bodyLevel('json')) },
    { weight: 1, arbitrary: notAnObject(validBody).map(bodyLevel('json')) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validBody, fc.integer({ min: 1, max: 2048 }), fc.constantFrom(' ', '\n'))
        .map(([text, extra, pad]) => ({
          kind: 'size' as const,
          body: text.replace(/}$/, `${pad.repeat(Math.max(0, maxBytes - Buffer.byteLength(text)) + extra)}}`),
          contentType: JSON_TYPE,
          mutation: { label: `${maxBytes + extra} bytes`, fields: ['(body)'] },
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validBody, fc.constantFrom<string | undefined>(undefined, ...WRONG_TYPES))
        .map(([text, contentType]) => ({
          kind: 'content-type' as const,
          body: text,
          contentType,
          mutation: { label: `Content-Type ${contentType ?? '(none)'}`, fields: ['(body)'] },
        })),
    },
  );
}

/** Bad requests for an endpoint that takes no body: any body at all, however plausible. */
export function unwantedBodies({ maxBytes }: BadBodyOptions): fc.Arbitrary<BadRequest> {
  const plausible = fc
    .dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((body) => JSON.stringify(body));
  return fc.oneof(
    plausible.map((text) => ({
      kind: 'field' as const,
      body: text,
      contentType: JSON_TYPE,
      mutation: { label: 'a JSON object', fields: ['(body)'] },
    })),
    notJson(plausible).map((item) => ({
      kind: 'json' as const,
      body: item.text,
      contentType: JSON_TYPE,
      mutation: { label: item.label, fields: ['(body)'] },
    })),
    notAnObject(plausible).map((item) => ({
      kind: 'json' as const,
      body: item.text,
      contentType: JSON_TYPE,
      mutation: { label: item.label, fields: ['(body)'] },
    })),
    fc.constantFrom(' ', '\n', '\u0000').map((text) => ({
      kind: 'json' as const,
      body: text,
      contentType: JSON_TYPE,
      mutation: { label: 'whitespace or NUL', fields: ['(body)'] },
    })),
    fc.integer({ min: 1, max: 2048 }).map((extra) => ({
      kind: 'size' as const,
      body: `{"a":"${repeat(maxBytes + extra)}"}`,
      contentType: JSON_TYPE,
      mutation: { label: `${maxBytes + extra + 8} bytes`, fields: ['(body)'] },
    })),
    fc
      .tuple(plausible, fc.constantFrom<string | undefined>(undefined, ...WRONG_TYPES))
      .map(([text, contentType]) => ({
        kind: 'content-type' as const,
        body: text,
        contentType,
        mutation: { label: `Content-Type ${contentType ?? '(none)'}`, fields: ['(body)'] },
      })),
  );
}

/** A valid body of the schema, to check the generators' base is valid (so the mutation is the cause). */
export const validBodies = (schema: z.core.$ZodType) => valid(shapeOf(schema));
