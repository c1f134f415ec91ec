import { createPodcastBodySchema, PODCAST_BODY_MAX_BYTES } from '@offload/messages';
import { DEFAULT_MAX_BODY_BYTES, describeBadBodies } from '@offload/testing/fuzz';

// The two on-demand runs take no body: any body is refused, so none of these may start a run. They
// need an operator key (dev-key-olga), or every answer would be a 403 before the body is read.
describeBadBodies('podcast-workers', 'PODCAST_WORKERS_URL', [
  { path: '/podcasts', schema: createPodcastBodySchema, maxBytes: PODCAST_BODY_MAX_BYTES },
  { path: '/podcasts/schedule', maxBytes: DEFAULT_MAX_BODY_BYTES, apiKey: 'dev-key-olga' },
  { path: '/episodes/check', maxBytes: DEFAULT_MAX_BODY_BYTES, apiKey: 'dev-key-olga' },
]);
