import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { stubControl } from '@offload/testing';

// The stack globalSetup starts serves the page at HTTP base + 90 (jobsPagePort in
// tools/local-stack/stack.ts), as `npm start` does; the harness's base is TEST_HTTP_PORT or 13000.
const PAGE_URL = `http://localhost:${Number(process.env.TEST_HTTP_PORT ?? '13000') + 90}/`;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCREENSHOT = path.join(ROOT, 'test-results', 'jobs-page.png');
const ALICE = 'dev-key-alice';
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface JobUpdated {
  type: 'job.updated';
  job_id: string;
  status: string;
  progress: number;
}

let userDataDir: string;
let context: BrowserContext;

async function jobsApi(pathname: string, init: RequestInit = {}) {
  const response = await fetch(`${process.env.AI_JOBS_URL}${pathname}`, {
    ...init,
    headers: { 'content-type': 'application/json', 'x-api-key': ALICE },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function openPage(page: Page): Promise<void> {
  await page.goto(PAGE_URL);
  await page.getByLabel('API key').fill(ALICE);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
}

/** Submits a multi-agent job through the form; the page selects it, which names its id. */
async function submitDiscussion(page: Page, topic: string, agents: number, rounds: number): Promise<string> {
  await page.getByLabel('Discussion').check();
  await page.getByLabel('Topic').fill(topic);
  await page.getByLabel('Agents').fill(String(agents));
  await page.getByLabel('Rounds').fill(String(rounds));
  const selectedId = () =>
    document.querySelector('#detail [data-job-id]')?.getAttribute('data-job-id') ?? null;
  const before = await page.evaluate(selectedId);
  await page.getByRole('button', { name: 'Submit job' }).click();
  const id = await page.waitForFunction((previous) => {
    const current = document.querySelector('#detail [data-job-id]')?.getAttribute('data-job-id');
    return current && current !== previous ? current : false;
  }, before);
  return (await id.jsonValue()) as string;
}

const row = (page: Page, id: string) => page.locator(`#jobs-table tr[data-id="${id}"]`);

beforeAll(async () => {
  // Each LLM step takes 300 ms, so a job's progress moves through visible steps (test-stage
  // processors time out after 5 s, so jobs stay well under that).
  await stubControl('/_stub/config', 'POST', { latencyMs: 300 });
  // A first invocation of a local function can take seconds on a loaded machine; warm up the cancel
  // route (an unknown id: 404) so the cancel below reaches the job while it is still running.
  expect((await jobsApi(`/jobs/${randomUUID()}`, { method: 'DELETE' })).status).toBe(404);
  userDataDir = mkdtempSync(path.join(tmpdir(), 'offload-jobs-page-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 900 },
  });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await stubControl('/_stub/state', 'DELETE');
});

describe('jobs page', () => {
  it('lists jobs, shows a job reach 100% and succeeded live over the WebSocket, and cancels one', async () => {
    const existing = await jobsApi('/jobs', {
      method: 'POST',
      body: JSON.stringify({ type: 'completion', config: { prompt: 'Listed before the page opened' } }),
    });
    expect(existing.status).toBe(202);

    const page = await context.newPage();
    const frames: JobUpdated[] = [];
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type?: string };
        if (message.type === 'job.updated') frames.push(message as JobUpdated);
      }),
    );
    await openPage(page);
    // Marks this document: if anything reloaded the page, the mark would be gone.
    await page.evaluate(() => ((window as unknown as { pageMark: number }).pageMark = 1));

    await row(page, existing.body.job_id as string).waitFor();
    await page.locator('#transport[data-transport="live"]').waitFor({ timeout: 30_000 });

    const id = await submitDiscussion(page, 'Should cities ban cars?', 2, 2);
    const bar = row(page, id).getByRole('progressbar');
    await row(page, id).locator('[data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    await expect(row(page, id).locator('.badge').textContent()).resolves.toBe('succeeded');
    expect(await page.evaluate(() => (window as unknown as { pageMark?: number }).pageMark)).toBe(1);

    // The updates came over the socket, and the bar passed through the steps in between.
    const mine = frames.filter((frame) => frame.job_id === id);
    // Events may arrive out of order (the page keeps the latest by updated_at); the final one arrives.
    expect(mine).toContainEqual(expect.objectContaining({ status: 'succeeded', progress: 1 }));
    expect(mine.some((frame) => frame.progress > 0 && frame.progress < 1)).toBe(true);
    // The detail pane shows the result once the job is done.
    await page.locator('#detail pre.json').waitFor();

    // A longer job, cancelled from its row while it is queued or running.
    const doomed = await submitDiscussion(page, 'A job to cancel', 3, 3);
    await row(page, doomed)
      .getByRole('button', { name: /^Cancel/ })
      .click();
    await row(page, doomed).locator('[data-status="cancelled"]').waitFor({ timeout: 60_000 });
    await expect(row(page, doomed).locator('.badge').textContent()).resolves.toBe('cancelled');
    expect((await jobsApi(`/jobs/${doomed}`)).body.status).toBe('cancelled');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await row(page, id).getByRole('button').first().click();
    await page.locator('#detail pre.json').waitFor();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('falls back to polling with Retry-After when the WebSocket cannot connect', async () => {
    const page = await context.newPage();
    // Every WebSocket this page opens is refused, as with a blocked proxy or a stage without one.
    await page.routeWebSocket(/.*/, (socket) => socket.close({ code: 1011, reason: 'unavailable' }));
    const polls: string[] = [];
    page.on('response', (response) => {
      if (
        /\/jobs\/[0-9a-f-]{36}$/.test(new URL(response.url()).pathname) &&
        response.request().method() === 'GET'
      ) {
        polls.push(response.headers()['retry-after'] ?? 'none');
      }
    });
    await openPage(page);
    // The key is kept for the tab's session: after a reload the page uses it without asking.
    await page.reload();
    await expect(page.getByLabel('API key').inputValue()).resolves.toBe(ALICE);
    await page.locator('#transport[data-transport="polling"]').waitFor({ timeout: 30_000 });

    const id = await submitDiscussion(page, 'Polled, not pushed', 2, 1);
    await row(page, id).locator('[data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await row(page, id).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    // Polled while open (each answer carrying Retry-After), and the last answer was final.
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.slice(0, -1).every((value) => /^\d+$/.test(value))).toBe(true);
    await page.close();
  });
});
