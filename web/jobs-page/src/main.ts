import { ApiError, createApi, parseConfig, type CreateJobBody, type JobsApi, type PageConfig } from './api';
import { LiveUpdates } from './live';
import {
  batchProgress,
  formatAge,
  initialState,
  isBatchJobOpen,
  isJobOpen,
  jobProgress,
  progressPercent,
  reduce,
  shortId,
  toPublicError,
  type Action,
  type BatchJobView,
  type JobView,
  type PageState,
  type Transport,
} from './model';

const KEY_STORAGE = 'offload.apiKey';

const $ = <T extends HTMLElement>(selector: string) => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
};

/** A tiny element builder: enough for a few tables, without a UI library. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') element.textContent = String(value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== undefined) element.append(child);
  return element;
}

let state: PageState = initialState;
let api: JobsApi | undefined;
let live: LiveUpdates | undefined;
let config: PageConfig;

function dispatch(action: Action): void {
  const before = state;
  state = reduce(state, action);
  if (state !== before) render(before);
}

function announce(message: string): void {
  const announcer = $('#announcer');
  announcer.textContent = message;
}

function showNotice(message: string | undefined): void {
  const notice = $('#notice');
  notice.hidden = !message;
  notice.textContent = message ?? '';
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'The API refused this key (401). Check it and try again.';
    return `${error.message} (${error.code})`;
  }
  if (error instanceof TypeError) return 'The API could not be reached (network or CORS).';
  return error instanceof Error ? error.message : String(error);
}

// ---------- rendering ----------

function progressBar(progress: number, label: string): HTMLElement {
  const percent = progressPercent(progress);
  const bar = h('div', {
    class: 'bar',
    role: 'progressbar',
    'aria-label': label,
    'aria-valuemin': '0',
    'aria-valuemax': '100',
    'aria-valuenow': String(percent),
  });
  const fill = h('span', { class: 'fill' });
  // Through the CSSOM: the page's CSP forbids style attributes.
  fill.style.width = `${percent}%`;
  bar.append(fill);
  return h('div', { class: 'progress' }, bar, h('span', { class: 'pct', text: `${percent}%` }));
}

function updateProgress(cell: HTMLElement, progress: number): void {
  const percent = String(progressPercent(progress));
  const bar = cell.querySelector<HTMLElement>('[role=progressbar]');
  if (!bar) return;
  if (bar.getAttribute('aria-valuenow') === percent) return;
  bar.setAttribute('aria-valuenow', percent);
  bar.querySelector<HTMLElement>('.fill')!.style.width = `${percent}%`;
  cell.querySelector('.pct')!.textContent = `${percent}%`;
}

function badge(status: string, cancelRequested?: boolean): HTMLElement {
  const text = cancelRequested && status === 'processing' ? 'cancelling' : status;
  return h('span', { class: `badge badge-${text}`, 'data-status': status, text });
}

interface RowSpec {
  id: string;
  kind: 'job' | 'batch';
  cells: [label: string, title: string, second: string, status: string, cancelRequested: boolean];
  progress: number;
  created: string;
  open: boolean;
}

/**
 * The header of a jobs or batch table, for the cells renderRows draws: the two tables differ only
 * in their first two columns, named in the table's `data-columns`.
 */
function tableHead(table: HTMLTableElement): HTMLTableSectionElement {
  const [first = '', second = ''] = (table.dataset.columns ?? '').split(',');
  const column = (text: string, props: Record<string, string> = {}) =>
    h('th', { scope: 'col', text, ...props });
  return h(
    'thead',
    {},
    h(
      'tr',
      {},
      column(first),
      column(second),
      column('Status'),
      column('Progress', { class: 'progress-col' }),
      column('Created'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })),
    ),
  );
}

/** Updates rows in place (keyed by id) so progress bars animate instead of being redrawn. */
function renderRows(tbody: HTMLTableSectionElement, specs: RowSpec[]): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const row of Array.from(tbody.rows)) existing.set(row.dataset.id!, row);
  const selectedId = state.selected?.id;
  specs.forEach((spec, index) => {
    let row = existing.get(spec.id);
    const [label, title, second, status, cancelRequested] = spec.cells;
    if (!row) {
      const open = h('button', { type: 'button', class: 'link', 'data-action': 'open', text: label });
      open.title = title;
      row = h(
        'tr',
        { 'data-id': spec.id, 'data-kind': spec.kind },
        h('td', { class: 'id' }, open),
        h('td', { text: second }),
        h('td', { class: 'status' }),
        h('td', { class: 'progress-col' }, progressBar(spec.progress, `Progress of ${label}`)),
        h('td', { class: 'created' }),
        h('td', { class: 'actions' }),
      );
    }
    existing.delete(spec.id);
    row.classList.toggle('selected', spec.id === selectedId);
    row.dataset.status = status;
    const cells = row.cells;
    const statusCell = cells[2]!;
    if (statusCell.textContent !== (cancelRequested && status === 'processing' ? 'cancelling' : status)) {
      statusCell.replaceChildren(badge(status, cancelRequested));
    }
    cells[1]!.textContent = second;
    updateProgress(cells[3]!, spec.progress);
    cells[4]!.textContent = formatAge(spec.created);
    cells[4]!.title = spec.created;
    const actions = cells[5]!;
    const wantsCancel = spec.open && !cancelRequested;
    if (wantsCancel !== Boolean(actions.firstChild)) {
      actions.replaceChildren(
        ...(wantsCancel
          ? [
              h('button', {
                type: 'button',
                class: 'danger small',
                'data-action': 'cancel',
                'aria-label': `Cancel ${label}`,
                text: 'Cancel',
              }),
            ]
          : []),
      );
    }
    if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] ?? null);
  });
  for (const row of existing.values()) row.remove();
}

function jobSpec(job: JobView): RowSpec {
  return {
    id: job.job_id,
    kind: 'job',
    cells: [shortId(job.job_id), job.job_id, job.type, job.status, job.cancel_requested === true],
    progress: jobProgress(job),
    created: job.created_at,
    open: isJobOpen(job),
  };
}

function batchSpec(job: BatchJobView): RowSpec {
  return {
    id: job.batch_job_id,
    kind: 'batch',
    cells: [
      job.name ?? shortId(job.batch_job_id),
      job.batch_job_id,
      `${job.processed_items}/${job.total_items}`,
      job.status,
      job.cancel_requested === true,
    ],
    progress: batchProgress(job),
    created: job.created_at,
    open: isBatchJobOpen(job),
  };
}

const TRANSPORT_LABELS: Record<Transport, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Polling',
};

function render(before: PageState): void {
  if (state.jobs !== before.jobs || state.selected !== before.selected) {
    renderRows($<HTMLTableSectionElement>('#jobs-table tbody'), state.jobs.map(jobSpec));
    $('#jobs-empty').hidden = state.jobs.length > 0;
  }
  if (state.batchJobs !== before.batchJobs || state.selected !== before.selected) {
    renderRows($<HTMLTableSectionElement>('#batch-table tbody'), state.batchJobs.map(batchSpec));
    $('#batch-empty').hidden = state.batchJobs.length > 0;
  }
  $('#jobs-more').hidden = !state.jobsCursor;
  $('#batch-more').hidden = !state.batchCursor;
  if (state.transport !== before.transport) {
    const transport = $('#transport');
    transport.dataset.transport = state.transport;
    $('#transport-label').textContent = TRANSPORT_LABELS[state.transport];
    transport.title =
      state.transport === 'polling'
        ? 'The WebSocket is unavailable: polling with the server’s Retry-After'
        : state.transport === 'live'
          ? 'Updates arrive over the WebSocket'
          : '';
  }
  announceChanges(before);
  renderDetail(before);
}

/** Screen readers hear each job reaching its final state once, not every progress tick. */
function announceChanges(before: PageState): void {
  if (state.jobs === before.jobs) return;
  const previous = new Map(before.jobs.map((job) => [job.job_id, job.status]));
  for (const job of state.jobs) {
    const was = previous.get(job.job_id);
    if (was && was !== job.status && !isJobOpen(job)) {
      announce(`Job ${shortId(job.job_id)} ${job.status}`);
    }
  }
}

const when = (iso: string) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
};

function json(value: unknown): HTMLElement {
  return h('pre', { class: 'json', text: JSON.stringify(value, null, 2) });
}

function field(name: string, value: Node | string): HTMLElement[] {
  return [h('dt', { text: name }), h('dd', {}, value)];
}

function renderDetail(before: PageState): void {
  const selected = state.selected;
  const body = $('#detail-body');
  const job = selected?.kind === 'job' ? state.jobs.find((row) => row.job_id === selected.id) : undefined;
  const batch =
    selected?.kind === 'batch' ? state.batchJobs.find((row) => row.batch_job_id === selected.id) : undefined;
  const beforeJob =
    before.selected?.kind === 'job'
      ? before.jobs.find((row) => row.job_id === before.selected!.id)
      : undefined;
  const beforeBatch =
    before.selected?.kind === 'batch'
      ? before.batchJobs.find((row) => row.batch_job_id === before.selected!.id)
      : undefined;
  if (
    selected === before.selected &&
    job === beforeJob &&
    batch === beforeBatch &&
    state.items === before.items
  ) {
    return;
  }
  if (!job && !batch) {
    body.replaceChildren(h('p', { class: 'empty', text: 'Select a job to see its result, error or items.' }));
    return;
  }
  if (job) {
    const error = job.error;
    body.replaceChildren(
      h(
        'dl',
        { class: 'facts', 'data-job-id': job.job_id },
        ...field('Job', h('code', { text: job.job_id })),
        ...field('Type', job.type),
        ...field('Status', badge(job.status, job.cancel_requested)),
        ...field('Progress', progressBar(jobProgress(job), 'Progress of the selected job')),
        ...field('Created', when(job.created_at)),
        ...field('Updated', when(job.updated_at)),
      ),
      ...(error
        ? [
            h('h3', { text: 'Error' }),
            h('p', { class: 'error-box' }, h('code', { text: error.code }), ` ${error.message}`),
          ]
        : []),
      ...(job.result !== undefined ? [h('h3', { text: 'Result' }), json(job.result)] : []),
      ...(isJobOpen(job) && job.result === undefined && !error
        ? [h('p', { class: 'empty', text: 'The result appears here when the job finishes.' })]
        : []),
    );
    return;
  }
  const b = batch!;
  const items = state.items;
  body.replaceChildren(
    h(
      'dl',
      { class: 'facts', 'data-batch-job-id': b.batch_job_id },
      ...field('Batch job', h('code', { text: b.batch_job_id })),
      ...(b.name ? field('Name', b.name) : []),
      ...field('Status', badge(b.status, b.cancel_requested)),
      ...field('Progress', progressBar(batchProgress(b), 'Progress of the selected batch job')),
      ...field(
        'Items',
        `${b.total_items} total · ${b.succeeded_items} succeeded · ${b.failed_items} failed` +
          (b.cancelled_items ? ` · ${b.cancelled_items} cancelled` : ''),
      ),
      ...field('Created', when(b.created_at)),
      ...field('Updated', when(b.updated_at)),
    ),
    h('h3', { text: 'Items' }),
    items === undefined
      ? h('p', { class: 'empty', text: 'Loading items…' })
      : h(
          'table',
          { class: 'table items' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col', text: 'Item' }),
              h('th', { scope: 'col', text: 'Status' }),
              h('th', { scope: 'col', text: 'Result or error' }),
            ),
          ),
          h(
            'tbody',
            {},
            ...items.map((item) => {
              const error = item.error === undefined ? undefined : toPublicError(item.error);
              const outcome = error
                ? `${error.code}: ${error.message}`
                : item.result === undefined
                  ? ''
                  : typeof item.result === 'string'
                    ? item.result
                    : JSON.stringify(item.result);
              return h(
                'tr',
                {},
                h('td', { class: 'id', text: item.item_id }),
                h('td', {}, badge(item.status)),
                h('td', { class: 'outcome', text: outcome }),
              );
            }),
          ),
        ),
  );
}

// ---------- data ----------

function watchOpen(): void {
  for (const job of state.jobs) if (isJobOpen(job)) live?.watch({ kind: 'job', id: job.job_id });
  for (const job of state.batchJobs) {
    if (isBatchJobOpen(job)) live?.watch({ kind: 'batch', id: job.batch_job_id });
  }
}

async function loadLists(append = false): Promise<void> {
  if (!api) return;
  const current = api;
  const [jobs, batches] = await Promise.allSettled([
    current.listJobs(append ? state.jobsCursor : undefined),
    current.listBatchJobs(append ? state.batchCursor : undefined),
  ]);
  if (api !== current) return;
  if (jobs.status === 'fulfilled') {
    dispatch({
      type: 'jobs.loaded',
      jobs: jobs.value.body.jobs,
      nextCursor: jobs.value.body.next_cursor,
      append,
    });
  }
  if (batches.status === 'fulfilled') {
    dispatch({
      type: 'batchJobs.loaded',
      batchJobs: batches.value.body.batch_jobs,
      nextCursor: batches.value.body.next_cursor,
      append,
    });
  }
  const failures = [
    jobs.status === 'rejected' && `Could not list jobs: ${describe(jobs.reason)}`,
    batches.status === 'rejected' && `Could not list batch jobs: ${describe(batches.reason)}`,
  ].filter(Boolean);
  showNotice(failures.length ? failures.join(' · ') : undefined);
  watchOpen();
}

async function loadItems(id: string): Promise<void> {
  if (!api) return;
  try {
    const { body } = await api.listBatchItems(id);
    dispatch({ type: 'items.loaded', batchJobId: id, items: body.items });
  } catch (error) {
    showNotice(`Could not load the batch job's items: ${describe(error)}`);
  }
}

function useKey(key: string): void {
  live?.close();
  dispatch({ type: 'reset' });
  api = createApi(config, key);
  const current = api;
  live = new LiveUpdates({
    websocketUrl: config.websocket_url,
    apiKey: key,
    onEvent: (event) => {
      if (event.type === 'error') {
        showNotice(`Live updates: ${event.message} (${event.code})`);
        return;
      }
      dispatch({ type: 'event', event });
      // A job that finishes carries its result only on GET: fetch it once for the detail pane.
      if (event.type === 'job.updated' && !isJobOpen(event)) void refreshJob(event.job_id, current);
      if (event.type === 'batch_job.updated' && state.selected?.id === event.batch_job_id) {
        void loadItems(event.batch_job_id);
      }
    },
    onJob: (job) => dispatch({ type: 'job.upserted', job }),
    onBatchJob: (batchJob) => dispatch({ type: 'batchJob.upserted', batchJob }),
    onTransport: (transport) => dispatch({ type: 'transport', transport }),
    getJob: (id) => current.getJob(id),
    getBatchJob: (id) => current.getBatchJob(id),
  });
  $('#app').hidden = false;
  $('#forget-key').hidden = false;
  void loadLists();
}

async function refreshJob(id: string, current: JobsApi): Promise<void> {
  try {
    const { body } = await current.getJob(id);
    if (api === current) dispatch({ type: 'job.upserted', job: body });
  } catch {
    // The event already showed the final state; the result can still be opened later.
  }
}

async function cancel(kind: 'job' | 'batch', id: string, button: HTMLButtonElement): Promise<void> {
  if (!api) return;
  button.disabled = true;
  try {
    if (kind === 'job') {
      const { body } = await api.cancelJob(id);
      dispatch({ type: 'job.upserted', job: body });
      announce(
        body.status === 'cancelled'
          ? `Job ${shortId(id)} cancelled`
          : `Cancelling job ${shortId(id)}; it stops after its current step`,
      );
    } else {
      const { body } = await api.cancelBatchJob(id);
      dispatch({ type: 'batchJob.upserted', batchJob: body });
      announce(`Batch job ${shortId(id)} ${body.status === 'cancelled' ? 'cancelled' : 'cancelling'}`);
    }
  } catch (error) {
    button.disabled = false;
    // Already finished: the list was behind; fetch the real state.
    if (error instanceof ApiError && error.code === 'job_finished') {
      if (kind === 'job') void refreshJob(id, api);
      announce(error.message);
      return;
    }
    showNotice(`Could not cancel ${shortId(id)}: ${describe(error)}`);
  }
}

function readSubmission(form: HTMLFormElement): CreateJobBody {
  const data = new FormData(form);
  const type = String(data.get('type'));
  if (type === 'completion') {
    const prompt = String(data.get('prompt') ?? '').trim();
    if (!prompt) throw new Error('Enter a prompt.');
    return { type, config: { prompt } };
  }
  const topic = String(data.get('topic') ?? '').trim();
  if (!topic) throw new Error('Enter a topic.');
  const agents = Number(data.get('agents'));
  const rounds = Number(data.get('rounds'));
  if (!Number.isInteger(agents) || agents < 1 || agents > 20) throw new Error('Agents must be 1–20.');
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new Error('Rounds must be 1–10.');
  return { type: type as 'simulation' | 'panel' | 'discussion', config: { topic, agents, rounds } };
}

async function submit(form: HTMLFormElement): Promise<void> {
  if (!api) return;
  const error = $('#submit-error');
  const button = $<HTMLButtonElement>('#submit-job');
  error.textContent = '';
  let body: CreateJobBody;
  try {
    body = readSubmission(form);
  } catch (problem) {
    error.textContent = (problem as Error).message;
    return;
  }
  button.disabled = true;
  try {
    const { body: accepted } = await api.createJob(body);
    // Draw the row at once from the full view, then follow it.
    const { body: job } = await api.getJob(accepted.job_id);
    dispatch({ type: 'job.upserted', job });
    dispatch({ type: 'selected', selection: { kind: 'job', id: job.job_id } });
    if (isJobOpen(job)) live?.watch({ kind: 'job', id: job.job_id });
    announce(`Submitted ${body.type} job ${shortId(job.job_id)}`);
  } catch (problem) {
    error.textContent = describe(problem);
  } finally {
    button.disabled = false;
  }
}

// ---------- wiring ----------

function wire(): void {
  const keyInput = $<HTMLInputElement>('#api-key');
  $('#key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    useKey(key);
  });
  $('#forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    live?.close();
    live = undefined;
    api = undefined;
    keyInput.value = '';
    dispatch({ type: 'reset' });
    $('#app').hidden = true;
    $('#forget-key').hidden = true;
    showNotice(undefined);
  });

  const form = $<HTMLFormElement>('#submit-form');
  form.addEventListener('change', () => {
    const multi = new FormData(form).get('type') !== 'completion';
    $('[data-for=completion]').hidden = multi;
    $('[data-for=multi]').hidden = !multi;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(form);
  });
  $('#refresh').addEventListener('click', () => void loadLists());
  $('#jobs-more').addEventListener('click', () => void loadLists(true));
  $('#batch-more').addEventListener('click', () => void loadLists(true));

  for (const table of ['#jobs-table', '#batch-table']) {
    $<HTMLTableElement>(table).tHead = tableHead($<HTMLTableElement>(table));
    $(table).addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
      const row = button?.closest<HTMLTableRowElement>('tr[data-id]');
      if (!button || !row) return;
      const kind = row.dataset.kind as 'job' | 'batch';
      const id = row.dataset.id!;
      if (button.dataset.action === 'cancel') void cancel(kind, id, button);
      else {
        dispatch({ type: 'selected', selection: { kind, id } });
        if (kind === 'batch') void loadItems(id);
        else if (api) void refreshJob(id, api);
      }
    });
  }
  // Ages ("2 min ago") drift; redraw them now and then.
  setInterval(() => {
    for (const cell of Array.from(document.querySelectorAll<HTMLElement>('td.created'))) {
      cell.textContent = formatAge(cell.title);
    }
  }, 30_000);
}

async function boot(): Promise<void> {
  wire();
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    config = parseConfig(await response.json());
  } catch (error) {
    showNotice(`This page has no usable config.json beside it: ${(error as Error).message}`);
    return;
  }
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) {
    $<HTMLInputElement>('#api-key').value = saved;
    useKey(saved);
  }
}

void boot();
