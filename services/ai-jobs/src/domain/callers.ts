import type { Caller, JobPriority } from '@offload/messages';

/** Paid callers' jobs go to the high-priority queue ("paid users get faster processing"). */
export const priorityOf = (caller: Caller): JobPriority => (caller.tier === 'paid' ? 'high' : 'normal');
