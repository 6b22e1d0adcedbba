/**
 * What REDIS_URL names: one Redis, a Redis Cluster, or a Sentinel-managed primary. One variable, so
 * a PaaS add-on's URL works as is and ops change one line to move to a bigger setup:
 *
 *   redis://[user:password@]host:port[/db]            one Redis (rediss:// for TLS)
 *   redis+cluster://[user:password@]host:port,host:port,…
 *                                                     Redis Cluster: any reachable nodes seed the
 *                                                     client, which discovers the rest (rediss+cluster:// for TLS)
 *   redis+sentinel://[user:password@]host:port,host:port,…/<primary name>[/db][?sentinel_username=…&sentinel_password=…]
 *                                                     the primary the Sentinels name (rediss+sentinel:// for TLS
 *                                                     to both); user/password are the data nodes'
 *
 * `+` in a scheme is the usual "over" notation (as in mongodb+srv://). Kept free of ioredis so the
 * configuration can validate a URL without opening anything.
 */

export type RedisNode = { host: string; port: number };
type Auth = { username?: string; password?: string; tls: boolean };

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'cluster'; nodes: RedisNode[] } & Auth)
  | ({ mode: 'sentinel'; sentinels: RedisNode[]; name: string; db: number; sentinelUsername?: string; sentinelPassword?: string } & Auth);

const MULTI = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)(\/[^?#]*)?(?:\?([^#]*))?$/;

function nodes(list: string): RedisNode[] {
  return list.split(',').map((hp) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${hp}" is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
}

const decode = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);

/** Parses REDIS_URL; throws an Error saying what is wrong (never echoing a password). */
export function redisTarget(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { mode: 'standalone', url };
  const m = MULTI.exec(url);
  if (!m) throw new Error('must be redis://, rediss://, redis+cluster://host:port,… or redis+sentinel://host:port,…/name');
  const [, scheme, mode, user, pass, hosts, path, query] = m;
  const auth: Auth = { tls: scheme === 'rediss', username: decode(user) || undefined, password: decode(pass) || undefined };
  const seeds = nodes(hosts!);
  if (mode === 'cluster') {
    if (path && path !== '/') throw new Error('a Redis Cluster has no database number or name in its URL');
    return { mode: 'cluster', nodes: seeds, ...auth };
  }
  const [name, db, ...rest] = (path ?? '').replace(/^\//, '').split('/');
  if (!name) throw new Error('redis+sentinel:// needs the primary name after the hosts (…/mymaster)');
  if (rest.length || (db !== undefined && !/^\d{1,2}$/.test(db))) throw new Error('redis+sentinel:// path is /<primary name>[/<db>]');
  const params = new URLSearchParams(query ?? '');
  return {
    mode: 'sentinel',
    sentinels: seeds,
    name: decodeURIComponent(name),
    db: Number(db ?? 0),
    sentinelUsername: params.get('sentinel_username') ?? undefined,
    sentinelPassword: params.get('sentinel_password') ?? undefined,
    ...auth,
  };
}

export const isClusterUrl = (url: string): boolean => /^rediss?\+cluster:\/\//.test(url);
