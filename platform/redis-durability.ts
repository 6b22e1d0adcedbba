/**
 * What the relay promises ("accepted" means kept through any one crash) holds only if Redis keeps what
 * it acknowledged: AOF on, fsynced before every answer (`appendfsync always`: with `everysec` a Redis
 * crash loses what it acknowledged while a background fsync ran, up to ~2 s), and no eviction (an
 * evicted job is lost without a trace). Read once at start, by the web and worker processes, and said
 * in the log when it is otherwise: ops learn it from the first lines, not from a lost approval.
 * Managed services often refuse CONFIG GET; then the log says what to check in their console.
 */
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** The settings the relay needs, and why, as the log says it. */
export const DURABLE_REDIS = {
  appendonly: { want: 'yes', why: 'without the AOF a Redis restart loses every queued job' },
  appendfsync: {
    want: 'always',
    why: 'a Redis crash loses what it acknowledged in the last ~1-2 s (accepted callbacks, challenges, messages)',
  },
  'maxmemory-policy': { want: 'noeviction', why: 'under eviction a full Redis silently drops queued jobs' },
} as const;

export type DurabilityReport = { checked: boolean; settings: Record<string, string>; problems: string[] };

export async function checkRedisDurability(redis: Redis, logger: Logger): Promise<DurabilityReport> {
  const settings: Record<string, string> = {};
  try {
    for (const name of Object.keys(DURABLE_REDIS)) {
      const [, value] = ((await redis.config('GET', name)) as string[]) ?? [];
      if (value !== undefined) settings[name] = value;
    }
  } catch (err) {
    logger.info(
      { err: String(err) },
      'cannot read the Redis persistence settings (CONFIG GET refused): make sure the service runs with appendonly yes, appendfsync always, maxmemory-policy noeviction',
    );
    return { checked: false, settings, problems: [] };
  }
  const problems: string[] = [];
  for (const [name, { want, why }] of Object.entries(DURABLE_REDIS)) {
    const have = settings[name];
    if (have === undefined || have === want) continue;
    problems.push(name);
    logger.warn({ setting: name, value: have, recommended: want }, `Redis ${name} is ${have}, not ${want}: ${why}`);
  }
  return { checked: true, settings, problems };
}
