import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Folders never searched for docs: dependencies, build output, git. */
const SKIPPED = new Set(['node_modules', 'dist', 'test-results']);

/**
 * Every document a reader is pointed at: each README.md in the tree (root, services, tools…) and
 * every markdown file under docs/, repository-relative and sorted so runs are comparable.
 */
export function docFiles(root = ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) continue;
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name === 'README.md' || (rel.startsWith(`docs${path.sep}`) && rel.endsWith('.md')))
        found.push(rel);
    }
  };
  walk('');
  return found.sort();
}

export interface FencedBlock {
  /** The info string's first word (`sh`, `bash`, `json`…), '' when there is none. */
  lang: string;
  /** The rest of the info string, e.g. `no-run`. */
  flags: string[];
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** 1-based line of the closing fence. */
  endLine: number;
}

export interface ParsedDoc {
  blocks: FencedBlock[];
  /** Every heading's anchor, as GitHub renders it (duplicates get -1, -2…). */
  anchors: Set<string>;
  /** Relative links with the line they sit on: `[text](target)`, outside code. */
  links: { target: string; line: number }[];
}

/** GitHub's heading anchor: lowercase, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;
const LINK = /\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

export function parseDoc(text: string): ParsedDoc {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  const anchors = new Set<string>();
  const links: ParsedDoc['links'] = [];
  const seen = new Map<string, number>();
  let open: { fence: string; info: string; line: number; body: string[] } | undefined;
  lines.forEach((line, index) => {
    const fence = FENCE.exec(line);
    if (open) {
      if (fence && fence[2]!.startsWith(open.fence) && fence[3]!.trim() === '') {
        const [lang = '', ...flags] = open.info.split(/\s+/).filter(Boolean);
        blocks.push({ lang, flags, body: open.body.join('\n'), line: open.line, endLine: index + 1 });
        open = undefined;
      } else open.body.push(line);
      return;
    }
    if (fence) {
      open = { fence: fence[2]!, info: fence[3]!.trim(), line: index + 1, body: [] };
      return;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const base = slug(heading[1]!.replace(/`/g, ''));
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count ? `${base}-${count}` : base);
    }
    // Inline code may show link syntax without being a link.
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(LINK)) links.push({ target: match[1]!, line: index + 1 });
  });
  if (open) throw new Error(`unclosed code fence opened on line ${open.line}`);
  return { blocks, anchors, links };
}

export function readDoc(rel: string, root = ROOT): ParsedDoc {
  return parseDoc(readFileSync(path.join(root, rel), 'utf8'));
}

/** A link's problem, or undefined when it points at an existing file (and heading, if it names one). */
export function brokenLink(from: string, target: string, root = ROOT): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: … are not ours to check
  const [file = '', anchor] = target.split('#', 2);
  const resolved = file ? path.normalize(path.join(path.dirname(from), decodeURI(file))) : from;
  if (resolved.startsWith('..')) return `${target} leaves the repository`;
  if (!existsSync(path.join(root, resolved))) return `${target}: no file ${resolved}`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md')) return `${target}: an anchor into a file that is not markdown`;
  if (!readDoc(resolved, root).anchors.has(anchor)) return `${target}: no heading #${anchor} in ${resolved}`;
  return undefined;
}
