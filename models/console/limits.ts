/**
 * Abuse limits of the console's public routes: per address (so one account cannot be guessed at
 * from many IPs) and per client IP (so one client cannot try many addresses), in 15-minute fixed
 * windows (platform/rate-limit.ts), counted apart for each action. An unknown address is counted
 * exactly like a known one: the limits say nothing about which addresses exist.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { hitFixedWindows } from '../../platform/rate-limit.js';
import { accountIdOf } from './account.js';

const WINDOW_MS = 15 * 60_000;
export type LimitedAction = 'login' | 'code-send' | 'code-check' | 'register' | 'reset';

export async function limitConsole(
  deps: { config: Config; redis: Redis },
  action: LimitedAction,
  who: { email?: string | null; ip: string },
): Promise<void> {
  const p = deps.config.queuePrefix;
  const limits = [{ key: redisKey.consoleLimit(p, action, `ip:${who.ip}`), limit: deps.config.consoleLimitPerIp, windowMs: WINDOW_MS }];
  if (who.email)
    limits.push({
      key: redisKey.consoleLimit(p, action, accountIdOf(who.email)),
      limit: deps.config.consoleLimitPerAddress,
      windowMs: WINDOW_MS,
    });
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
