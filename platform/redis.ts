/**
 * Redis connections. API producers fail fast when Redis is down (the request gets a 503, never a
 * hang); workers wait forever for Redis to come back, as BullMQ requires (maxRetriesPerRequest: null).
 */
import { Redis, type RedisOptions } from 'ioredis';

export function apiRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: 2000,
    lazyConnect: false,
    ...extra,
  });
}

export function workerRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, ...extra });
}

/**
 * A pub/sub subscriber: it waits for Redis to come back and resubscribes (ioredis re-issues its
 * SUBSCRIBEs on reconnect) instead of failing fast; its users keep a safety net for what they miss.
 */
export function subscriberRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false });
}

/** Resolves once the connection is ready, or rejects after `ms`. */
export async function waitReady(redis: Redis, ms = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis not ready after ${ms} ms`)), ms);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Redis unreachable or not serving yet: the connection is down (fail-fast clients), it is loading its
 * AOF after a restart (LOADING), a replica was promoted or is read-only (READONLY, MASTERDOWN), or a
 * cluster is resharding or has lost a slot (CLUSTERDOWN, TRYAGAIN, no node reachable). Callers
 * answer 503 and retry; nothing of it is a bug.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.name === 'ClusterAllFailedError' ||
    /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|enableOfflineQueue|^LOADING |^READONLY |^MASTERDOWN |^CLUSTERDOWN |^TRYAGAIN |None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready/i.test(
      err.message,
    )
  );
}
