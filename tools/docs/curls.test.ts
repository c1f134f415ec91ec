import { answerMismatches, buildScript, mismatches, parseAnswer, parsePattern, retarget } from './curls';
import { parseDoc } from './markdown';

function script(markdown: string) {
  const { blocks } = parseDoc(markdown);
  return buildScript(blocks, markdown.split('\n'));
}

describe('buildScript', () => {
  it('marks each curl command, leaving the commands as written', () => {
    const doc = [
      '```bash',
      "ID=$(curl -s -X POST http://localhost:3000/tasks -H 'x-api-key: k' \\",
      `  -d '{"title":"a # not a comment, nor curl x"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).task_id')`,
      'sleep 1',
      'until curl -s http://localhost:3000/tasks/$ID | grep -q done; do curl -s http://localhost:3103/x; done',
      '```',
    ].join('\n');
    const { script: text, curls } = script(doc);
    expect(text).toBe(
      [
        "ID=$(__doc_curl=1 curl -s -X POST http://localhost:3000/tasks -H 'x-api-key: k' \\",
        `  -d '{"title":"a # not a comment, nor curl x"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).task_id')`,
        'sleep 1',
        'until __doc_curl=2 curl -s http://localhost:3000/tasks/$ID | grep -q done; do __doc_curl=3 curl -s http://localhost:3103/x; done',
      ].join('\n'),
    );
    expect(curls.map(({ id, line }) => ({ id, line }))).toEqual([
      { id: 1, line: 2 },
      { id: 2, line: 5 },
      { id: 3, line: 5 },
    ]);
    expect(curls.every((curl) => curl.expect === undefined)).toBe(true);
  });

  it('skips no-run blocks and other languages', () => {
    const doc = ['```sh no-run', 'curl https://example.com', '```', '```text', 'curl x', '```'].join('\n');
    expect(script(doc)).toEqual({ script: '', curls: [] });
  });

  it('never marks a line inside a multi-line quoted argument', () => {
    const doc = ['```sh', "node -e '", 'curl (a word in a script)', "' x", '```'].join('\n');
    expect(script(doc).curls).toEqual([]);
  });

  it('takes answers from a trailing comment, a comment right after, or the next http/json block', () => {
    const doc = [
      '```bash',
      'curl -s -X POST http://localhost:3002/podcasts/schedule   # {"found":1,"sent":1}',
      'curl -s -X POST http://localhost:3103/invocations',
      '# {"jobsPolled":1,"durationMs":…}',
      'curl -s -i http://localhost:3000/tasks',
      '```',
      '',
      '```http',
      'HTTP/1.1 202 Accepted',
      'location: /tasks/1',
      '',
      '{"status":"queued"}',
      '```',
    ].join('\n');
    const expects = script(doc).curls.map((curl) => curl.expect);
    expect(expects).toEqual([
      { headers: [], body: parsePattern('{"found":1,"sent":1}') },
      { headers: [], body: parsePattern('{"jobsPolled":1,"durationMs":…}') },
      { status: 202, headers: ['location'], body: parsePattern('{"status":"queued"}') },
    ]);
  });

  it('does not take a comment after another command for the curl before it', () => {
    const doc = [
      '```sh',
      'curl -s http://localhost:3001/jobs',
      'node -e "x"',
      '# {"type":"job.updated"}',
      '```',
    ].join('\n');
    expect(script(doc).curls[0]!.expect).toBeUndefined();
  });
});

describe('answers', () => {
  it('matches strings exactly, example UUIDs and … loosely, numbers by type, keys by presence', () => {
    const pattern = parsePattern(
      '{"id":"5ebe2104-3b17-46b4-8d39-710482a15918","status":"completed","n":3,"p":"batch_…","at":"…","c":…,"items":[{"s":"ok"},…],…}',
    );
    const good = {
      id: '0d3c7c0e-7ad1-4a59-8f0b-0d5bd3a2d3f1',
      status: 'completed',
      n: 7,
      p: 'batch_abc',
      at: '2026-12-03T10:00:00Z',
      c: null,
      items: [{ s: 'ok', extra: 1 }, { s: 'later' }],
      more: true,
    };
    expect(mismatches(pattern, good)).toEqual([]);
    expect(mismatches(pattern, { ...good, status: 'failed', n: '3', p: 'file_abc', id: 'x' })).toEqual([
      '$.id: expected "5ebe2104-3b17-46b4-8d39-710482a15918", got "x"',
      '$.status: expected "completed", got "failed"',
      '$.n: expected a number, got "3"',
      '$.p: expected "batch_…", got "file_abc"',
    ]);
    const { c: _dropped, ...withoutC } = good;
    expect(mismatches(pattern, withoutC)).toEqual(['$.c: missing']);
  });

  it('checks the status line and headers of an http answer', () => {
    const expect202 = parseAnswer('HTTP/1.1 202 Accepted\nlocation: /tasks/1\n\n{"status":"queued"}');
    const answer = (status: number, header: string) =>
      `HTTP/1.1 ${status} X\r\n${header}: /tasks/9\r\ncontent-type: application/json\r\n\r\n{"status":"queued"}`;
    expect(answerMismatches(expect202, answer(202, 'location'))).toEqual([]);
    expect(answerMismatches(expect202, answer(200, 'x-other'))).toEqual([
      'status: expected 202, got 200',
      'header location: missing',
    ]);
    expect(answerMismatches(parseAnswer('{"a":1}'), 'not json')).toEqual(['body is not JSON: not json']);
  });

  it('refuses a shown answer that is not JSON-like, so a typo in a doc is caught', () => {
    expect(() => parsePattern('{"a":1,')).toThrow(/expected a string/);
  });
});

describe('retarget', () => {
  it('moves documented ports and the local stage, and nothing else', () => {
    const ports = new Map([
      [3000, 28000],
      [3103, 28103],
      [3204, 28204],
    ]);
    expect(
      retarget(
        [
          'curl http://localhost:3000/tasks localhost:3000 127.0.0.1:3204',
          'curl http://localhost:3103/2015-03-31/functions/offload-batch-poller-local-pollBatches/invocations',
          'curl http://localhost:4566 "local-dev" http://example.com:3000',
        ].join('\n'),
        ports,
        'test',
      ),
    ).toBe(
      [
        'curl http://localhost:28000/tasks localhost:28000 127.0.0.1:28204',
        'curl http://localhost:28103/2015-03-31/functions/offload-batch-poller-test-pollBatches/invocations',
        'curl http://localhost:4566 "local-dev" http://example.com:3000',
      ].join('\n'),
    );
  });
});
