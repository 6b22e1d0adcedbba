/**
 * Redis state (ioredis, an optional peer dependency): shared by every process of the tenant's
 * backend. `swap` is one Lua script, so a compare-and-set is atomic across processes.
 *
 * `new RedisKV(redis)` uses your own ioredis client (closing it stays yours); `new RedisKV(url)`
 * opens one (ioredis is loaded when it is first needed; close it with `close()`).
 */
import { ConfigurationError } from '../errors.js';
import type { KV } from './kv.js';

/** What the SDK uses of an ioredis client (typed here so ioredis stays optional). */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
}

const SWAP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

const ms = (ttlSeconds: number) => Math.max(1, Math.trunc(ttlSeconds * 1000));

type RedisCtor = new (url: string, o: object) => RedisLike;
type IoredisModule = { Redis?: RedisCtor; default?: RedisCtor } & RedisCtor;

async function open(url: string): Promise<RedisLike> {
  let mod: IoredisModule;
  try {
    mod = (await import('ioredis')) as unknown as IoredisModule;
  } catch {
    throw new ConfigurationError(['the Redis state backend needs ioredis: npm install ioredis']);
  }
  const Redis = mod.Redis ?? mod.default ?? mod;
  return new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5000, lazyConnect: false });
}

export class RedisKV implements KV {
  private readonly client: Promise<RedisLike>;
  private readonly owned: boolean;

  constructor(redis: string | RedisLike) {
    this.owned = typeof redis === 'string';
    this.client = typeof redis === 'string' ? open(redis) : Promise.resolve(redis);
    // A load failure is thrown by the first operation, not left unhandled.
    this.client.catch(() => undefined);
  }

  async get(key: string): Promise<string | null> {
    return (await this.client).get(key);
  }

  async putNew(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await (await this.client).set(key, value, 'PX', ms(ttlSeconds), 'NX')) === 'OK';
  }

  async swap(key: string, old: string, value: string, ttlSeconds: number): Promise<boolean> {
    return Number(await (await this.client).eval(SWAP, 1, key, old, value, ms(ttlSeconds))) === 1;
  }

  async delete(key: string): Promise<void> {
    await (await this.client).del(key);
  }

  async close(): Promise<void> {
    if (this.owned) await (await this.client).quit();
  }
}
