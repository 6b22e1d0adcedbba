/**
 * A promise bounded in time: `p`'s outcome, or a rejection with `timedOut()` once `ms` pass first.
 * `p` is not cancelled (nothing generic can cancel it): whatever it does later is ignored, its
 * rejection included (the race has handled it). The timer is cleared either way.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, timedOut: () => Error = () => new Error('timeout')): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
