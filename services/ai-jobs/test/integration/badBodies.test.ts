import { createJobBodySchema, JOB_BODY_MAX_BYTES } from '@offload/messages';
import { describeBadBodies } from '@offload/testing/fuzz';

describeBadBodies('ai-jobs', 'AI_JOBS_URL', [
  { path: '/jobs', schema: createJobBodySchema, maxBytes: JOB_BODY_MAX_BYTES },
]);
