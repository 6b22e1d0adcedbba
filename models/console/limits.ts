/**
 * Abuse limits of the console's public routes, in 15-minute fixed windows (platform/rate-limit.ts),
 * counted apart for each action. An unknown address is counted exactly like a known one: the limits
 * say nothing about which addresses exist.
 *
 * Guessing (sign-in passwords, codes tried): per (address, client IP) at CONSOLE_LIMIT_PER_ADDRESS,
 * so whoever fails from one place is stopped there without locking the address's owner out from
 * elsewhere; per address from all IPs together at the much higher CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS,
 * the slow global bound against a guesser spread over many IPs; and per IP (one client trying many
 * addresses). Mail-sending actions (codes asked, sign-ups, resets) stay per address, whatever the IP,
 * so no one floods a mailbox from many IPs, and per IP.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { releaseIfHeld } from '../../platform/claims.js';
import { hitFixedWindows } from '../../platform/rate-limit.js';
import { accountIdOf } from './account.js';

const WINDOW_MS = 15 * 60_000;
export type LimitedAction = 'login' | 'code-send' | 'code-check' | 'register' | 'reset';
/** Actions where an attacker guesses a secret: limited per (address, IP), with a higher bound per address. */
const GUESSING = new Set<LimitedAction>(['login', 'code-check']);

export async function limitConsole(
  deps: { config: Config; redis: Redis },
  action: LimitedAction,
  who: { email?: string | null; ip: string },
): Promise<void> {
  const p = deps.config.queuePrefix;
  const limits = [{ key: redisKey.consoleLimit(p, action, `ip:${who.ip}`), limit: deps.config.consoleLimitPerIp, windowMs: WINDOW_MS }];
  if (who.email) {
    const address = accountIdOf(who.email);
    if (GUESSING.has(action))
      limits.push(
        {
          key: redisKey.consoleLimit(p, action, `${address}:ip:${who.ip}`),
          limit: deps.config.consoleLimitPerAddress,
          windowMs: WINDOW_MS,
        },
        { key: redisKey.consoleLimit(p, action, address), limit: deps.config.consoleLimitPerAddressAllIps, windowMs: WINDOW_MS },
      );
    else limits.push({ key: redisKey.consoleLimit(p, action, address), limit: deps.config.consoleLimitPerAddress, windowMs: WINDOW_MS });
  }
  const results = await hitFixedWindows(deps.redis, limits);
  const over = results.filter((r) => !r.ok);
  if (over.length)
    throw new DomainError(
      'RATE_LIMITED',
      'Too many attempts; wait a few minutes and try again.',
      [],
      Math.max(...over.map((r) => r.retryAfterS)),
    );
}

/**
 * Runs `fn` alone for `name` across every process (a Redis lock with a short lease), so a quota
 * check and the write it guards cannot interleave with a concurrent request's (two parallel creates
 * would both see room for one). A request that finds the lock taken is told to try again.
 */
export async function underLock<T>(deps: { config: Config; redis: Redis }, name: string, fn: () => Promise<T>): Promise<T> {
  const k = redisKey.consoleLimit(deps.config.queuePrefix, 'lock', name);
  const token = `${process.pid}:${Math.random()}`;
  if ((await deps.redis.set(k, token, 'PX', 15_000, 'NX')) !== 'OK')
    throw new DomainError('RATE_LIMITED', 'Another change of the same kind is in progress; try again in a moment.', [], 1);
  try {
    return await fn();
  } finally {
    // Only our own lease (a lease that ran out may be someone else's by now).
    await releaseIfHeld(deps.redis, k, token);
  }
}

export const quotaExceeded = (what: string, max: number, setting: string): DomainError =>
  new DomainError('QUOTA_EXCEEDED', `${what}: at most ${max} (${setting}).`, [`limit: ${max}`]);
