import { brokenLink, docFiles, parseDoc, readDoc, slug } from './markdown';

describe('markdown parsing', () => {
  it('takes anchors from headings as GitHub renders them, never from code blocks', () => {
    const doc = parseDoc(
      [
        '# Deployer IAM permissions (scope resources to `offload-*`)',
        '## Stopping, and a service that dies',
        '## Notes',
        '## Notes',
        '```sh',
        '# Against LocalStack (a comment, not a heading)',
        '```',
      ].join('\n'),
    );
    expect([...doc.anchors]).toEqual([
      'deployer-iam-permissions-scope-resources-to-offload-',
      'stopping-and-a-service-that-dies',
      'notes',
      'notes-1',
    ]);
    expect(doc.blocks).toEqual([
      { lang: 'sh', flags: [], body: '# Against LocalStack (a comment, not a heading)', line: 5, endLine: 7 },
    ]);
  });

  it('finds links in prose and tables, not in inline code or code blocks', () => {
    const doc = parseDoc(
      [
        'See [Auth](docs/auth.md#keys) and [AWS](https://aws.amazon.com).',
        '| [`task-api`](services/task-api/README.md) | `[not](a-link.md)` |',
        '```',
        '[nor](this.md)',
        '```',
      ].join('\n'),
    );
    expect(doc.links).toEqual([
      { target: 'docs/auth.md#keys', line: 1 },
      { target: 'https://aws.amazon.com', line: 1 },
      { target: 'services/task-api/README.md', line: 2 },
    ]);
  });

  it('reads the info string of a fence as a language and flags', () => {
    const [block] = parseDoc('```sh no-run\nnpm start\n```\n').blocks;
    expect(block).toMatchObject({ lang: 'sh', flags: ['no-run'], body: 'npm start' });
  });

  it('slugs headings like GitHub', () => {
    expect(slug('Package (no account, no network)')).toBe('package-no-account-no-network');
    expect(slug('Node 24')).toBe('node-24');
  });
});

describe('links in the READMEs and docs/', () => {
  const files = docFiles();

  it('covers the root README, every service README and docs/', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/testing.md',
        ...['task-api', 'ai-jobs', 'podcast-workers', 'batch-poller', 'live-updates'].map(
          (service) => `services/${service}/README.md`,
        ),
      ]),
    );
  });

  it.each(files)('%s: every relative link points at an existing file and heading', (file) => {
    const broken = readDoc(file)
      .links.map(({ target, line }) => ({ line, problem: brokenLink(file, target) }))
      .filter(({ problem }) => problem !== undefined)
      .map(({ line, problem }) => `${file}:${line}: ${problem}`);
    expect(broken).toEqual([]);
  });

  it('reports a missing file, a missing heading and a link out of the repository', () => {
    expect(brokenLink('README.md', 'docs/nowhere.md')).toMatch(/no file docs\/nowhere\.md/);
    expect(brokenLink('README.md', 'docs/testing.md#no-such-heading')).toMatch(/no heading #no-such-heading/);
    expect(brokenLink('docs/testing.md', '../../elsewhere.md')).toMatch(/leaves the repository/);
    expect(brokenLink('docs/testing.md', 'deploy.md#secrets')).toBeUndefined();
    expect(brokenLink('README.md', '#try-it')).toBeUndefined();
  });
});
