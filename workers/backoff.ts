/**
 * The custom BullMQ backoff for jobs whose options say `backoff: {type: SCHEDULE_BACKOFF}`. The
 * processor already knows the right delay (the retry schedule, jitter, a Retry-After header) and
 * carries it on the error; without one, the configured schedule applies.
 */
import type { Config } from '../platform/config.js';
import { SCHEDULE_BACKOFF } from '../queues/catalogue.js';

export function backoffStrategy(config: Config) {
  return (attemptsMade: number, type?: string, err?: Error): number => {
    const carried = (err as { delayMs?: unknown } | undefined)?.delayMs;
    if (typeof carried === 'number' && carried >= 0) return carried;
    const schedule = config.callbackRetryScheduleMs;
    if (type === SCHEDULE_BACKOFF) return schedule[attemptsMade] ?? schedule[schedule.length - 1] ?? 1000;
    // Any other job: exponential with jitter, from 1 s, capped at 5 min.
    return Math.min(300_000, 1000 * 2 ** Math.max(0, attemptsMade - 1)) * (0.8 + Math.random() * 0.4);
  };
}
