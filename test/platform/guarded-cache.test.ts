/**
 * The read-through cache that stands in front of FerretDB scans on hot paths (device sessions, a
 * user's fan-out): a read that raced a write must not put the old value back (a revoked session
 * would keep working until the TTL). Real Redis, from scripts/with-services.sh.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { invalidate, readThrough } from '../../platform/guarded-cache.js';

const codec = { encode: (v: string) => v, decode: (s: string) => s };

describe('guarded cache: a read racing a write caches nothing', () => {
  let redis: Redis;
  const keys = () => {
    const id = randomBytes(6).toString('hex');
    return { entry: `test:{gc:${id}}:entry`, generation: `test:{gc:${id}}:gen` };
  };
  before(() => {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('run through scripts/with-services.sh (REDIS_URL)');
    redis = new Redis(url);
  });
  after(() => redis.disconnect());

  /** A read-through miss that has read `value()` and is held before it caches, until `release()`. */
  async function stalledRead(k: { entry: string; generation: string }, value: () => string) {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const racing = readThrough(
      redis,
      k,
      60,
      async () => {
        const seen = value();
        await held;
        return seen;
      },
      codec,
    );
    await new Promise((r) => setTimeout(r, 20)); // it has noted the generation and read by now
    return { racing, release };
  }

  it('caches what it read, and serves it without reading again', async () => {
    const k = keys();
    let reads = 0;
    const load = async () => (reads++, 'v1');
    assert.equal(await readThrough(redis, k, 60, load, codec), 'v1');
    assert.equal(await readThrough(redis, k, 60, load, codec), 'v1');
    assert.equal(reads, 1);
    assert.ok((await redis.ttl(k.entry)) > 0, 'the entry expires');
  });

  it('a read that saw the old value while a write and its invalidation landed does not cache it', async () => {
    const k = keys();
    let store = 'active';
    // The read takes the old value, then stalls; meanwhile the write happens and invalidates.
    const { racing, release } = await stalledRead(k, () => store);
    store = 'revoked';
    await invalidate(redis, k, 60);
    release();
    assert.equal(await racing, 'active', 'the racing reader itself answers what it read');
    assert.equal(await redis.get(k.entry), null, 'but did not cache it');
    assert.equal(await readThrough(redis, k, 60, async () => store, codec), 'revoked');
  });

  it('fail closed: an invalidation with a replacement answers it at once, and a read in flight does not overwrite it', async () => {
    const k = keys();
    const { racing, release } = await stalledRead(k, () => 'active');
    // The revocation, before its MongoDB write (which never happens here: the process "died").
    await invalidate(redis, k, 60, 'revoked');
    release();
    await racing;
    assert.equal(await readThrough(redis, k, 60, async () => 'active', codec), 'revoked');
    assert.ok((await redis.ttl(k.entry)) > 0, 'until the TTL ends, then MongoDB decides again');
  });

  it('concurrent misses share one read; an invalidation drops the entry', async () => {
    const k = keys();
    let reads = 0;
    const load = async () => (reads++, await new Promise((r) => setTimeout(r, 30)), `v${reads}`);
    const all = await Promise.all(Array.from({ length: 10 }, () => readThrough(redis, k, 60, load, codec)));
    assert.deepEqual(new Set(all), new Set(['v1']));
    assert.equal(reads, 1);
    await invalidate(redis, k, 60);
    assert.equal(await readThrough(redis, k, 60, load, codec), 'v2');
  });
});
