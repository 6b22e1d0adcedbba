/**
 * Redis connections, for one Redis, a Redis Cluster or a Sentinel-managed primary, whichever REDIS_URL
 * names (platform/redis-url.ts). API producers fail fast when Redis is down (the request gets a 503,
 * never a hang); workers wait forever for Redis to come back, as BullMQ requires
 * (maxRetriesPerRequest: null).
 *
 * On a cluster the factories return ioredis's Cluster client typed as `Redis`: it has the same command
 * interface (ioredis's Commander: commands, defineCommand scripts, multi, pipeline, pub/sub) and routes
 * each command by its key's slot. What the relay sends a cluster is single-slot by construction — every
 * key of a tenant carries the tenant id as its hash tag (platform/keys.ts), every script and MULTI
 * touches one tenant's keys, BullMQ's keys carry a hash tag per queue (queues/names.ts bullPrefix) — and
 * test/platform/redis-cluster.test.ts runs the relay on a 3-node cluster. The few commands that are
 * node-local on a cluster (KEYS, SCAN, FLUSHDB) are used by tests and scripts on one Redis only.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redisTarget } from './redis-url.js';

/**
 * A primary demoted to a replica (a Sentinel failover, a managed service's failover behind one DNS
 * name) answers writes with READONLY until the client reconnects: reconnect, so the next command
 * reaches the new primary (the failed one is answered 503, or retried by BullMQ).
 */
const reconnectOnError = (err: Error) => err.message.startsWith('READONLY');

function connect(url: string, given: RedisOptions, clusterOptions: ClusterOptions = {}): Redis {
  const t = redisTarget(url);
  const options: RedisOptions = { reconnectOnError, ...given };
  if (t.mode === 'standalone') return new Redis(url, options);
  const auth = { username: t.username, password: t.password, ...(t.tls ? { tls: {} } : {}) };
  if (t.mode === 'sentinel') {
    return new Redis({
      ...options,
      ...auth,
      sentinels: t.sentinels,
      name: t.name,
      db: t.db,
      sentinelUsername: t.sentinelUsername,
      sentinelPassword: t.sentinelPassword,
      enableTLSForSentinelMode: t.tls,
    });
  }
  const cluster = new Cluster(t.nodes, {
    ...clusterOptions,
    redisOptions: { ...options, ...auth },
    // Managed TLS clusters (e.g. ElastiCache) announce node IPs their certificates do not name: connect by the name.
    ...(t.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
  });
  return cluster as unknown as Redis;
}

export function apiRedis(url: string, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: 2000,
    lazyConnect: false,
    ...extra,
  };
  return connect(url, options, { enableOfflineQueue: options.enableOfflineQueue ?? false });
}

export function workerRedis(url: string, extra: RedisOptions = {}): Redis {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: false, ...extra });
}

/**
 * A pub/sub subscriber: it waits for Redis to come back and resubscribes (ioredis re-issues its
 * SUBSCRIBEs on reconnect) instead of failing fast; its users keep a safety net for what they miss.
 * On a cluster, classic pub/sub reaches every node, so one subscription to any node hears it all.
 */
export function subscriberRedis(url: string): Redis {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: false });
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
 * AOF after a restart (LOADING), a replica was promoted or is read-only (READONLY, MASTERDOWN), it is
 * full and refuses writes (OOM, under noeviction), or a cluster is resharding or has lost a slot
 * (CLUSTERDOWN, TRYAGAIN, no node reachable). Callers
 * answer 503 and retry; nothing of it is a bug.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.name === 'ClusterAllFailedError' ||
    /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|enableOfflineQueue|^LOADING |^READONLY |^OOM |^MASTERDOWN |^CLUSTERDOWN |^TRYAGAIN |None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready/i.test(
      err.message,
    )
  );
}
