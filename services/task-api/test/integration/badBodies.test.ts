import { createTaskBodySchema, TASK_BODY_MAX_BYTES } from '@offload/messages';
import { describeBadBodies } from '@offload/testing/fuzz';

describeBadBodies('task-api', 'TASK_API_URL', [
  { path: '/tasks', schema: createTaskBodySchema, maxBytes: TASK_BODY_MAX_BYTES },
]);
