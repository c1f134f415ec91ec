import { BATCH_BODY_MAX_BYTES, createBatchJobBodySchema } from '@offload/messages';
import { describeBadBodies } from '@offload/testing/fuzz';

describeBadBodies('batch-poller', 'BATCH_POLLER_URL', [
  { path: '/batch-jobs', schema: createBatchJobBodySchema, maxBytes: BATCH_BODY_MAX_BYTES },
]);
