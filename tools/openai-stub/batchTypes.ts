/** Wire and stored shapes of the Files and Batch APIs. */
export interface BatchPhases {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
}

export const BATCH_OUTCOMES = ['failed', 'expired', 'item_error'] as const;
export type BatchOutcome = (typeof BATCH_OUTCOMES)[number];

export const BATCH_STATUSES = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const TERMINAL: readonly BatchStatus[] = ['failed', 'completed', 'expired', 'cancelled'];

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
}

export interface StoredFile {
  meta: FileObject;
  content: Buffer;
}

export interface BatchRequestLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

export interface BatchError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

/** The wire shape of a Batch; every field the SDK type declares is present, unset ones null. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  metadata: Record<string, string> | null;
}

export interface Step {
  status: BatchStatus;
  atMs: number;
}

export interface BatchRecord {
  wire: BatchObject;
  lines: BatchRequestLine[];
  outcome?: { kind: BatchOutcome; match: string };
  phases: BatchPhases;
  /** Status changes still ahead, in order; each is applied once the clock passes it. */
  pending: Step[];
}
