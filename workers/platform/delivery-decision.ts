/**
 * What one callback attempt leads to, as a pure function of its result (no I/O, unit-tested beside
 * it): delivered, retried after a delay (the retry schedule with jitter, or the receiver's
 * Retry-After when longer), or dead-lettered with a reason. The answer names the delivery's
 * transition (models/platform/delivery-machine.ts), which the worker records.
 */
import type { AttemptTransition } from '../../models/platform/delivery-machine.js';
import type { AttemptResult } from '../../platform/outbound-http.js';

/** The longest Retry-After honoured: a receiver cannot park a delivery for more than a day. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export type DeliveryDecision =
  | { transition: Extract<AttemptTransition, 'deliver' | 'deliverFromDead'> }
  | { transition: 'retry'; delayMs: number }
  | { transition: Extract<AttemptTransition, 'deadLetter' | 'failFromDead'>; reason: string };

export type AttemptCount = {
  /** This job's attempt, from 1 (the retry schedule counts these). */
  attemptNo: number;
  /** The delivery's attempt, from 1, replays included (what the reason names). */
  n: number;
  /** The attempts this job may make. */
  allowed: number;
  /** A dead letter's own failed job retried from the queue dashboard (its record is `dead`). */
  fromDead: boolean;
};

/** Whether a failed attempt may succeed if tried again: the network, a timeout, 408, 429, 5xx. */
export function retryable(result: AttemptResult): boolean {
  const code = 'statusCode' in result ? result.statusCode : 0;
  return result.outcome === 'network_error' || result.outcome === 'timeout' || code === 408 || code === 429 || code >= 500;
}

/** `ms` spread by ±spread/2, with `random` in [0, 1). */
const jitter = (ms: number, spread: number, random: () => number) => Math.round(ms * (1 - spread / 2 + random() * spread));

/**
 * The decision for one attempt. `schedule[i]` is the delay before attempt i + 1 (its last entry
 * repeats); `random` is Math.random but for tests.
 */
export function decideDelivery(
  result: AttemptResult,
  a: AttemptCount,
  schedule: readonly number[],
  random: () => number = Math.random,
): DeliveryDecision {
  if (result.outcome === 'success') return { transition: a.fromDead ? 'deliverFromDead' : 'deliver' };
  const code = 'statusCode' in result ? result.statusCode : 0;
  const again = retryable(result);
  // A dead letter's dashboard retry has used its attempts (attemptNo > allowed): it never retries.
  if (again && a.attemptNo < a.allowed) {
    const scheduled = jitter(schedule[a.attemptNo] ?? schedule[schedule.length - 1] ?? 0, 0.1, random);
    const retryAfter = 'retryAfterMs' in result && result.retryAfterMs !== null ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
    return { transition: 'retry', delayMs: Math.max(scheduled, retryAfter) };
  }
  // Permanent refusal or retries exhausted: the delivery goes to the dead-letter store.
  const last = `${result.outcome}${code ? ` ${code}` : ''}`;
  const reason = again ? `retries exhausted after ${a.n} attempts (last: ${last})` : `${last}: not retryable`;
  return { transition: a.fromDead ? 'failFromDead' : 'deadLetter', reason };
}
