export type Tier = 'free' | 'paid';

/**
 * Who is calling: every record a service keeps belongs to one caller, and only they can read it.
 * Here so both the HTTP layer (which identifies the caller) and domain code (which scopes records
 * to them) can name it.
 */
export interface Caller {
  userId: string;
  tier: Tier;
  /** May run the operator triggers that act on every caller's records (POST /podcasts/schedule). */
  operator?: boolean;
}
