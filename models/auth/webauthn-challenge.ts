/**
 * WebAuthn challenges (docs/contract.md §2.5): single-use, short-lived, in Redis only (hot state; nothing about a
 * challenge needs to outlive it).
 *
 * One key per challenge, `{prefix}:{tenant}:webauthn:chl:{challenge}` (the hash tag keeps a tenant's
 * keys on one cluster slot), so the tenant is part of the address: another tenant's challenge is
 * unknown here. The value binds the ceremony, the user (when known) and the origin the options were
 * issued for. `takeChallenge` reads and deletes it in one GETDEL, so of two verifies racing with one
 * challenge exactly one gets it, on any API process.
 *
 * The key lives a grace minute past the challenge's expiry so that a late answer is told "expired"
 * (410 EXPIRED) rather than "unknown" (410 GONE); the expiry itself is checked against `exp`.
 */
import type { Redis } from 'ioredis';

export type Ceremony = 'register' | 'authenticate';

export type StoredChallenge = {
  ceremony: Ceremony;
  /** The user the options were made for (relay_user_linked_id, backend_user_id); null for a usernameless sign-in. */
  link: string | null;
  backendUserId: string | null;
  origin: string;
  /** Expiry, ms epoch. */
  exp: number;
};

const GRACE_S = 60;
/** What generateRegistrationOptions / generateAuthenticationOptions produce: 32 random bytes, base64url. */
const CHALLENGE = /^[A-Za-z0-9_-]{16,128}$/;

const key = (prefix: string, tenantId: string, challenge: string) => `${prefix}:{${tenantId}}:webauthn:chl:${challenge}`;

export async function saveChallenge(
  redis: Redis,
  prefix: string,
  tenantId: string,
  challenge: string,
  c: Omit<StoredChallenge, 'exp'>,
  ttlSeconds: number,
): Promise<StoredChallenge> {
  const stored: StoredChallenge = { ...c, exp: Date.now() + ttlSeconds * 1000 };
  await redis.set(key(prefix, tenantId, challenge), JSON.stringify(stored), 'EX', ttlSeconds + GRACE_S);
  return stored;
}

/** The challenge, consumed whatever happens next (a failed verify burns it); null when unknown or already used. */
export async function takeChallenge(redis: Redis, prefix: string, tenantId: string, challenge: string): Promise<StoredChallenge | null> {
  if (!CHALLENGE.test(challenge)) return null;
  const raw = await redis.getdel(key(prefix, tenantId, challenge));
  return raw ? (JSON.parse(raw) as StoredChallenge) : null;
}
