/**
 * Console passwords: argon2id (the `argon2` package, the reference implementation with prebuilt
 * binaries shipped inside the npm package, so nothing is compiled or downloaded at install), with
 * OWASP's recommended floor: 19 MiB of memory, 2 passes, 1 lane (~20 ms here). Node 20 has no
 * built-in argon2 (crypto.argon2 arrived in Node 24); scrypt would also be memory-hard, but argon2id
 * is the first choice of OWASP and RFC 9106. The hash string carries its parameters, so they can be
 * raised later: `needsRehash` tells a sign-in to store a stronger hash.
 *
 * `verifyOrBurn` does the same work whether or not there is a hash to check, so a sign-in for an
 * unknown address costs what one for a known address costs (no account enumeration by timing).
 */
import argon2 from 'argon2';

const PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PARAMS);
}

let dummy: Promise<string> | undefined;

/** True when `password` matches `hash`; with no hash, checks against a throw-away one (same cost) and is false. */
export async function verifyOrBurn(hash: string | null | undefined, password: string): Promise<boolean> {
  const target = hash ?? (await (dummy ??= argon2.hash('not a password: timing equaliser', PARAMS)));
  try {
    const ok = await argon2.verify(target, password);
    return ok && Boolean(hash);
  } catch {
    return false;
  }
}

export function needsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, PARAMS);
  } catch {
    return true;
  }
}
