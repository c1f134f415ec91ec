import type { FencedBlock } from './markdown';

/** Shell blocks the doc test runs, unless their info string says `no-run`. */
const SHELLS = new Set(['sh', 'bash', 'shell']);
/** Blocks right after a shell block that show what its last curl answers. */
const ANSWERS = new Set(['http', 'json', '']);

export const isRunnable = (block: FencedBlock) => SHELLS.has(block.lang) && !block.flags.includes('no-run');

/** What a doc says one curl answers: an HTTP status, header names, a JSON body (with `…` as wildcards). */
export interface Expectation {
  status?: number;
  headers: string[];
  body?: Pattern;
}

export interface CurlStatement {
  /** Number of the statement in its file (1-based), as the wrapper records it. */
  id: number;
  /** The doc's line where the statement starts. */
  line: number;
  text: string;
  expect?: Expectation;
}

export interface DocScript {
  /** The shell blocks joined in order, each curl statement preceded by a marker assignment. */
  script: string;
  curls: CurlStatement[];
}

/** The variable a statement marker sets; the wrapper files each call under it. */
export const MARKER = '__doc_curl';

/**
 * Joins a doc's runnable shell blocks into one script and finds each curl in it (a `curl` command
 * word outside quotes and comments). Each gets the prefix `__doc_curl=<id> `, an assignment for
 * that one command that changes nothing it does but lets the wrapper file each call (in a loop,
 * every call) under the documented curl it came from. Expected answers come from a `# {…}`
 * comment on or right after the curl's statement, or from an http/json block right after the
 * shell block (for the block's last curl).
 */
export function buildScript(blocks: FencedBlock[], docLines: string[]): DocScript {
  const out: string[] = [];
  const curls: CurlStatement[] = [];
  blocks.forEach((block, index) => {
    if (!isRunnable(block)) return;
    const lines = block.body.split('\n');
    let inSingle = false;
    let inDouble = false;
    let continued = false;
    let current: CurlStatement | undefined;
    lines.forEach((line, offset) => {
      const docLine = block.line + 1 + offset;
      if (!inSingle && !inDouble && !continued) {
        const comment = /^\s*#\s*(\{.*)$/.exec(line);
        if (comment && current && !current.expect)
          current.expect = { headers: [], body: parsePattern(comment[1]!) };
        else if (!/^\s*(#.*)?$/.test(line)) current = undefined;
      } else if (current) current.text += `\n${line.trim()}`;
      const scan = scanLine(line, inSingle, inDouble);
      const found = scan.curls.map((at) => ({ at, id: curls.length + scan.curls.indexOf(at) + 1 }));
      // Right to left, so earlier positions stay valid.
      const marked = found.reduceRight(
        (text, { at, id }) => `${text.slice(0, at)}${MARKER}=${id} ${text.slice(at)}`,
        line,
      );
      for (const { id } of found) {
        current = { id, line: docLine, text: line.trim() };
        curls.push(current);
      }
      ({ inSingle, inDouble } = scan);
      continued = !inSingle && !inDouble && /\\$/.test(line);
      // A `# {…}` comment at the end of the statement's last line shows its answer.
      const trailing = !inSingle && !inDouble && !continued ? /\s#\s*\{/.exec(stripQuoted(line)) : null;
      if (trailing && current && !current.expect)
        current.expect = {
          headers: [],
          body: parsePattern(line.slice(trailing.index + trailing[0].length - 1)),
        };
      out.push(marked);
    });
    const next = blocks[index + 1];
    const last = curls.at(-1);
    if (next && last && ANSWERS.has(next.lang) && onlyBlankBetween(docLines, block.endLine, next.line))
      last.expect = parseAnswer(next.body);
  });
  return { script: out.join('\n'), curls };
}

function onlyBlankBetween(lines: string[], endLine: number, nextLine: number): boolean {
  return lines.slice(endLine, nextLine - 1).every((line) => line.trim() === '');
}

/** Quote state at the end of the line, and where a `curl` command word starts outside quotes. */
function scanLine(line: string, single: boolean, double: boolean) {
  const curls: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '\\' && !single) i++;
    else if (char === "'" && !double) single = !single;
    else if (char === '"' && !single) double = !double;
    else if (single || double) continue;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    else if (
      line.startsWith('curl', i) &&
      (i === 0 || /[\s(|;&]/.test(line[i - 1]!)) &&
      /\s/.test(line[i + 4] ?? '')
    )
      curls.push(i);
  }
  return { inSingle: single, inDouble: double, curls };
}

/** The line with quoted text blanked, so a `#` inside quotes is not taken for a comment. */
function stripQuoted(line: string): string {
  return line.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, (quoted) => ' '.repeat(quoted.length));
}

/** An `http` block (`HTTP/1.1 202 …`, headers, blank line, body) or a bare JSON body. */
export function parseAnswer(text: string): Expectation {
  const trimmed = text.trim();
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(trimmed);
  if (!status) return { headers: [], body: parsePattern(trimmed) };
  const [head = '', ...rest] = trimmed.split(/\r?\n\r?\n/);
  const headers = head
    .split('\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase())
    .filter(Boolean);
  const body = rest.join('\n\n').trim();
  return { status: Number(status[1]), headers, body: body ? parsePattern(body) : undefined };
}

/**
 * JSON as docs write it: `…` for a value left out (`"created_at":"…"`, `"next_cursor":…`), for
 * more members or elements (`,…}` `,…]`), or inside a string for any text (`"batch_…"`).
 */
export type Pattern =
  | { kind: 'any' }
  | { kind: 'string'; value: string }
  | { kind: 'number' }
  | { kind: 'literal'; value: boolean | null }
  | { kind: 'array'; items: Pattern[] }
  | { kind: 'object'; members: [string, Pattern][] };

const ELLIPSIS = '…';

export function parsePattern(text: string): Pattern {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`expected ${what} at ${i} in ${text}`);
  };
  const space = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const isEllipsis = () => text.startsWith(ELLIPSIS, i);
  const string = (): string => {
    const end = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!end) return fail('a string');
    i += end[0].length;
    return JSON.parse(end[0]) as string;
  };
  const value = (): Pattern => {
    space();
    if (isEllipsis()) {
      i += ELLIPSIS.length;
      return { kind: 'any' };
    }
    const char = text[i];
    if (char === '{')
      return container(
        '}',
        () => {
          space();
          const key = string();
          space();
          if (text[i++] !== ':') fail('":"');
          return [key, value()] as [string, Pattern];
        },
        (members) => ({ kind: 'object', members }),
      );
    if (char === '[') return container(']', value, (items) => ({ kind: 'array', items }));
    if (char === '"') return { kind: 'string', value: string() };
    const literal = /^(true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!literal) return fail('a value');
    i += literal[0].length;
    return /^[-\d]/.test(literal[0])
      ? { kind: 'number' }
      : { kind: 'literal', value: JSON.parse(literal[0]) };
  };
  function container<T, P extends Pattern>(close: string, entry: () => T, make: (entries: T[]) => P): P {
    i++;
    const entries: T[] = [];
    for (;;) {
      space();
      if (text[i] === close) break;
      if (isEllipsis()) i += ELLIPSIS.length;
      else entries.push(entry());
      space();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`"," or "${close}"`);
    }
    i++;
    return make(entries);
  }
  const pattern = value();
  space();
  if (i !== text.length) fail('the end');
  return pattern;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Where `actual` differs from the pattern, as `path: problem` lines. Strings must be equal (an
 * example UUID stands for any UUID, `…` inside a string for any text); numbers only need to be
 * numbers, since counts and times depend on what else the stack has seen; every key shown must
 * be there, and keys not shown may be.
 */
export function mismatches(pattern: Pattern, actual: unknown, at = '$'): string[] {
  switch (pattern.kind) {
    case 'any':
      return actual === undefined ? [`${at}: missing`] : [];
    case 'number':
      return typeof actual === 'number' ? [] : [`${at}: expected a number, got ${JSON.stringify(actual)}`];
    case 'literal':
      return actual === pattern.value
        ? []
        : [`${at}: expected ${pattern.value}, got ${JSON.stringify(actual)}`];
    case 'string': {
      if (typeof actual !== 'string') return [`${at}: expected a string, got ${JSON.stringify(actual)}`];
      const { value } = pattern;
      const matches = UUID.test(value)
        ? UUID.test(actual)
        : new RegExp(`^${value.split(ELLIPSIS).map(escape).join('[\\s\\S]*')}$`).test(actual);
      return matches ? [] : [`${at}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`];
    }
    case 'array':
      if (!Array.isArray(actual)) return [`${at}: expected an array, got ${JSON.stringify(actual)}`];
      return pattern.items.flatMap((item, index) => mismatches(item, actual[index], `${at}[${index}]`));
    case 'object':
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
        return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
      return pattern.members.flatMap(([key, value]) =>
        key in actual
          ? mismatches(value, (actual as Record<string, unknown>)[key], `${at}.${key}`)
          : [`${at}.${key}: missing`],
      );
  }
}

/** A curl's output as the wrapper saved it: with `-i`, the status line and headers come first. */
export function splitResponse(output: string): { status?: number; headers: string[]; body: string } {
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(output);
  if (!status) return { headers: [], body: output };
  const end = output.search(/\r?\n\r?\n/);
  const head = end === -1 ? output : output.slice(0, end);
  const headers = head
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase());
  return { status: Number(status[1]), headers, body: end === -1 ? '' : output.slice(end).trim() };
}

/** What differs between what the doc shows a curl answering and what it answered. */
export function answerMismatches(expect: Expectation, output: string): string[] {
  const response = splitResponse(output);
  const problems: string[] = [];
  if (expect.status !== undefined && response.status !== expect.status)
    problems.push(`status: expected ${expect.status}, got ${response.status ?? 'no status line'}`);
  for (const header of expect.headers)
    if (!response.headers.includes(header)) problems.push(`header ${header}: missing`);
  if (expect.body) {
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return [...problems, `body is not JSON: ${response.body.slice(0, 200)}`];
    }
    problems.push(...mismatches(expect.body, body));
  }
  return problems;
}

/**
 * The documented default ports (HTTP base 3000: service i on 3000 + i, its Lambda API on
 * 3100 + i, its WebSocket API on 3200 + i) moved to the stack under test, and the documented stage
 * (`local`, in function names) to the stage it runs.
 */
export function retarget(script: string, ports: Map<number, number>, stage: string): string {
  return script
    .replace(/\b(localhost|127\.0\.0\.1):(\d+)\b/g, (whole, host: string, port: string) => {
      const moved = ports.get(Number(port));
      return moved === undefined ? whole : `${host}:${moved}`;
    })
    .replace(/\boffload-([a-z-]+?)-local-/g, `offload-$1-${stage}-`);
}
