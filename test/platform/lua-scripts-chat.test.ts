/**
 * The chat and delivery Lua scripts (platform/lua/chat-*.lua, delivery-*.lua), each run directly
 * against a real Redis (scripts/with-services.sh) for its decisions: what it answers and what it
 * leaves in Redis, including under concurrent calls. The code around them is tested elsewhere
 * (test/chat/state.test.ts, test/platform/callbacks.test.ts); here a failing decision points at its
 * script.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { defineScript } from '../../platform/redis-scripts.js';

type Fields = (string | null)[] | null;
const READ = defineScript<[string], [], Fields>('chat-conversation-read');
const NEXT = defineScript<[string, string], [number, number], Fields>('chat-conversation-next');
const MARK_STALE = defineScript<[string], [], number>('chat-conversation-mark-stale');
const ADD = defineScript<[string, string], [number, string, number, number], number>('chat-recent-add');
const AFTER = defineScript<[string, string], [number, number], [number, string[], number[]]>('chat-recent-after');
const ROTATE = defineScript<[string], [number, number], number>('chat-visitor-generation-rotate');
const STORE = defineScript<[string], [string, number, number], number>('chat-operator-record-store');
const ACQUIRE = defineScript<[string, string, string, string], (string | number)[], [number, number, number, string]>(
  'delivery-slot-acquire',
);
const RELEASE = defineScript<[string, string, string, string], (string | number)[], number>('delivery-slot-release');

const TTL = 60_000;
const FORGET = 3_600_000;

describe('Lua scripts: chat and delivery decisions', () => {
  let redis: Redis;
  /** Keys of one test: one hash tag, as the relay's keys of one tenant. */
  const tag = () => `test:{lua:${randomBytes(6).toString('hex')}}`;
  before(() => {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('run through scripts/with-services.sh (REDIS_URL)');
    redis = new Redis(url);
  });
  after(() => redis.disconnect());

  describe('chat-conversation-read / -next / -mark-stale', () => {
    const conv = async (fields: Record<string, string | number>) => {
      const t = tag();
      const k = { state: `${t}:cv`, inFlight: `${t}:inflight` };
      await redis.hset(k.state, { status: 'pending', session: 'vss_1', rk: 'sales', assignee: '', ticket: '', seq: 0, ceil: 3, ...fields });
      return k;
    };

    it('numbers messages one by one within the lease, answering the state and marking each number in flight', async () => {
      const k = await conv({});
      const a = await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]);
      const b = await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]);
      assert.deepEqual(a, ['pending', 'vss_1', 'sales', '', '', '1']);
      assert.equal(b?.[5], '2');
      assert.deepEqual(await redis.zrange(k.inFlight, 0, -1), ['1', '2']);
      assert.ok((await redis.pttl(k.state)) > 0 && (await redis.pttl(k.inFlight)) > 0, 'both keys expire');
      // READ answers the same fields without taking a number.
      assert.deepEqual(await READ.run(redis, [k.state], []), ['pending', 'vss_1', 'sales', '', '', '2']);
      assert.equal(await redis.hget(k.state, 'seq'), '2');
    });

    it('answers "reload" when the lease is used up, without taking the number', async () => {
      const k = await conv({ seq: 2, ceil: 3 });
      assert.equal((await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]))?.[5], '3');
      assert.equal(await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]), null);
      assert.equal(await redis.hget(k.state, 'seq'), '3', 'the refused number is given back');
      assert.deepEqual(await redis.zrange(k.inFlight, 0, -1), ['3']);
    });

    it('answers "reload" for a stale or missing hash, taking nothing', async () => {
      const k = await conv({ stale: '1' });
      assert.equal(await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]), null);
      assert.equal(await READ.run(redis, [k.state], []), null);
      assert.equal(await redis.hget(k.state, 'seq'), '0');
      assert.equal(await redis.exists(k.inFlight), 0);
      const gone = `${tag()}:cv`;
      assert.equal(await NEXT.run(redis, [gone, `${gone}:f`], [TTL, FORGET]), null);
      assert.equal(await READ.run(redis, [gone], []), null);
      assert.equal(await redis.exists(gone), 0, 'no hash is created');
    });

    it('forgets in-flight marks older than the forget time', async () => {
      const k = await conv({ ceil: 10 });
      await redis.zadd(k.inFlight, 1, '99'); // a mark from long ago (Redis time ms)
      await NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET]);
      assert.deepEqual(await redis.zrange(k.inFlight, 0, -1), ['1']);
    });

    it('hands out each number exactly once to concurrent callers, and no more than the lease', async () => {
      const k = await conv({ ceil: 50 });
      const many = await Promise.all(Array.from({ length: 80 }, () => NEXT.run(redis, [k.state, k.inFlight], [TTL, FORGET])));
      const seqs = many.filter((v) => v !== null).map((v) => Number(v[5]));
      assert.deepEqual(
        seqs.sort((x, y) => x - y),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(many.filter((v) => v === null).length, 30);
      assert.equal(await redis.hget(k.state, 'seq'), '50');
    });

    it('marks stale once: 1 for the marker, 0 for a mark already there, -1 without a hash', async () => {
      const k = await conv({});
      assert.equal(await MARK_STALE.run(redis, [k.state], []), 1);
      assert.equal(await MARK_STALE.run(redis, [k.state], []), 0);
      assert.equal(await READ.run(redis, [k.state], []), null, 'a marked hash is read as "reload"');
      const gone = `${tag()}:cv`;
      assert.equal(await MARK_STALE.run(redis, [gone], []), -1);
      assert.equal(await redis.exists(gone), 0);
    });
  });

  describe('chat-recent-add / -after', () => {
    const keys = () => {
      const t = tag();
      return { set: `${t}:recent`, inFlight: `${t}:inflight` };
    };
    const msg = (seq: number) => JSON.stringify({ seq, text: `m${seq}` });

    it('adds a message and takes its number out of flight in one step; keeps the last `keep`', async () => {
      const k = keys();
      await redis.zadd(k.inFlight, Date.now(), '1', Date.now(), '2');
      for (const seq of [1, 2, 3]) assert.equal(await ADD.run(redis, [k.set, k.inFlight], [seq, msg(seq), 2, TTL]), 1);
      assert.deepEqual(await redis.zrange(k.set, 0, -1), [msg(2), msg(3)]);
      assert.equal(await redis.zcard(k.inFlight), 0);
      assert.ok((await redis.pttl(k.set)) > 0);
    });

    it('answers the messages after a number when the set reaches back to it, with numbers still in flight', async () => {
      const k = keys();
      for (const seq of [4, 5, 6, 7]) await ADD.run(redis, [k.set, k.inFlight], [seq, msg(seq), 100, TTL]);
      const t = await redis.time();
      const now = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      await redis.zadd(k.inFlight, now - 2000, '8', now, '3');
      const [reaches, messages, flying] = await AFTER.run(redis, [k.set, k.inFlight], [4, 2]);
      assert.equal(reaches, 1);
      assert.deepEqual(messages, [msg(5), msg(6)], 'at most `limit`, in order, above `after`');
      assert.equal(flying.length, 2, 'only numbers above `after`');
      assert.equal(flying[0], 8);
      assert.ok(flying[1]! >= 2000 && flying[1]! < 60_000, `age ${flying[1]} in Redis time`);
      // After 3: the set starts at 4 = 3 + 1, so it still reaches.
      assert.equal((await AFTER.run(redis, [k.set, k.inFlight], [3, 10]))[0], 1);
    });

    it('answers "does not reach" (and no messages) when the set starts above after + 1, or is empty', async () => {
      const k = keys();
      for (const seq of [10, 11]) await ADD.run(redis, [k.set, k.inFlight], [seq, msg(seq), 100, TTL]);
      assert.deepEqual(await AFTER.run(redis, [k.set, k.inFlight], [8, 10]), [0, [], []]);
      const empty = keys();
      assert.deepEqual(await AFTER.run(redis, [empty.set, empty.inFlight], [0, 10]), [0, [], []]);
    });
  });

  describe('chat-visitor-generation-rotate', () => {
    it('moves on only from the current generation (no key is 0); a second refresh with the same token is refused', async () => {
      const k = `${tag()}:vgen`;
      assert.equal(await ROTATE.run(redis, [k], [1, TTL]), -1, 'not current: the key is absent, so 0');
      assert.equal(await ROTATE.run(redis, [k], [0, TTL]), 1);
      assert.equal(await ROTATE.run(redis, [k], [0, TTL]), -1);
      assert.equal(await ROTATE.run(redis, [k], [1, TTL]), 2);
      assert.ok((await redis.pttl(k)) > 0);
    });

    it('of concurrent refreshes from one generation, exactly one wins', async () => {
      const k = `${tag()}:vgen`;
      const answers = await Promise.all(Array.from({ length: 20 }, () => ROTATE.run(redis, [k], [0, TTL])));
      assert.deepEqual(
        answers.sort((a, b) => b - a),
        [1, ...Array<number>(19).fill(-1)],
      );
    });
  });

  describe('chat-operator-record-store', () => {
    const rec = (v: number, name = `v${v}`) => JSON.stringify({ _id: 'op_1', v, display_name: name });

    it('stores when absent, refreshes on a tie, takes a newer version, refuses an older one', async () => {
      const k = `${tag()}:op`;
      assert.equal(await STORE.run(redis, [k], [rec(2), 2, 60]), 1);
      assert.equal(await STORE.run(redis, [k], [rec(2, 'renamed'), 2, 60]), 1);
      assert.equal(await redis.get(k), rec(2, 'renamed'));
      assert.equal(await STORE.run(redis, [k], [rec(1), 1, 60]), 0, 'an older version is refused');
      assert.equal(await redis.get(k), rec(2, 'renamed'));
      assert.equal(await STORE.run(redis, [k], [rec(3), 3, 60]), 1);
      assert.equal(await redis.get(k), rec(3));
      const ttl = await redis.ttl(k);
      assert.ok(ttl > 0 && ttl <= 60);
    });

    it('overwrites a stored value that is not a versioned record', async () => {
      const k = `${tag()}:op`;
      await redis.set(k, 'not json');
      assert.equal(await STORE.run(redis, [k], [rec(0), 0, 60]), 1);
      await redis.set(k, JSON.stringify({ _id: 'op_1' }));
      assert.equal(await STORE.run(redis, [k], [rec(0), 0, 60]), 1);
      assert.equal(await redis.get(k), rec(0));
    });

    it('of a slow fill racing a change, the newer version stays whatever the order', async () => {
      const k = `${tag()}:op`;
      await Promise.all([
        STORE.run(redis, [k], [rec(5), 5, 60]),
        STORE.run(redis, [k], [rec(4), 4, 60]),
        STORE.run(redis, [k], [rec(5), 5, 60]),
      ]);
      assert.equal(await redis.get(k), rec(5));
    });
  });

  describe('delivery-slot-acquire / -release', () => {
    const keys = () => {
      const t = tag();
      return {
        acquire: [`${t}:inflight`, `${t}:circuit`, `${t}:gen`, `${t}:latency`] as [string, string, string, string],
        release: [`${t}:inflight`, `${t}:failures`, `${t}:circuit`, `${t}:latency`] as [string, string, string, string],
      };
    };
    const LEASE = 10_000;
    const CAP = 2;
    const BURST = 4;
    const FAST = 250;
    const SLOW = 1000;
    const acquire = (k: ReturnType<typeof keys>, member: string, now = Date.now()) =>
      ACQUIRE.run(redis, k.acquire, [now, LEASE, CAP, member, BURST, FAST, SLOW]);
    /** ARGV: member, outcome, failed, threshold, cooldownMs, durationMs. */
    const release = (k: ReturnType<typeof keys>, member: string, outcome = 'success', failed = 0, durationMs = 100) =>
      RELEASE.run(redis, k.release, [member, outcome, failed, 3, 5_000, durationMs]);

    it('grants up to the cap, then refuses with the oldest lease age; a release frees a slot', async () => {
      const k = keys();
      const now = Date.now();
      assert.deepEqual(await acquire(k, 'a', now - 300), [1, 0, 0, '0']);
      assert.deepEqual(await acquire(k, 'b', now - 100), [1, 0, 0, '0']);
      const [granted, age, circuit] = await acquire(k, 'c', now);
      assert.deepEqual([granted, circuit], [0, 0]);
      assert.equal(age, 300, 'the oldest lease, a, was taken 300 ms before');
      assert.equal(await release(k, 'a'), 1);
      assert.equal((await acquire(k, 'c', now))[0], 1);
      assert.deepEqual(await redis.zrange(k.acquire[0], 0, -1), ['b', 'c']);
    });

    it("answers the tenant's generation with every grant or refusal", async () => {
      const k = keys();
      await redis.set(k.acquire[2], '7');
      assert.equal((await acquire(k, 'a'))[3], '7');
    });

    it("drops leases older than the lease time (a crashed worker's slots come back)", async () => {
      const k = keys();
      const now = Date.now();
      await acquire(k, 'a', now - LEASE - 1);
      await acquire(k, 'b', now - LEASE - 1);
      assert.equal((await acquire(k, 'c', now))[0], 1);
      assert.deepEqual(await redis.zrange(k.acquire[0], 0, -1), ['c']);
    });

    it('lets a fast tenant burst past the cap up to the burst, and no further; a slow one keeps the cap', async () => {
      const fast = keys();
      await redis.set(fast.acquire[3], '50.0');
      const now = Date.now();
      const fastGrants = [];
      for (const m of ['a', 'b', 'c', 'd', 'e']) fastGrants.push((await acquire(fast, m, now))[0]);
      assert.deepEqual(fastGrants, [1, 1, 1, 1, 0]);

      const slow = keys();
      await redis.set(slow.acquire[3], '800.0');
      const slowGrants = [];
      for (const m of ['a', 'b', 'c']) slowGrants.push((await acquire(slow, m, now))[0]);
      assert.deepEqual(slowGrants, [1, 1, 0]);

      // Fast on average, but something of it has been in flight longer than slowMs: back to the cap.
      const hung = keys();
      await redis.set(hung.acquire[3], '50.0');
      await acquire(hung, 'old', now - SLOW - 10);
      await acquire(hung, 'b', now);
      assert.equal((await acquire(hung, 'c', now))[0], 0);
    });

    it('keeps an EWMA of attempt durations; a release without an attempt leaves it alone', async () => {
      const k = keys();
      await acquire(k, 'a');
      await release(k, 'a', 'success', 0, 100);
      assert.equal(await redis.get(k.release[3]), '100.0');
      await release(k, 'b', 'http_error', 0, 600);
      assert.equal(await redis.get(k.release[3]), '200.0', '0.8 × 100 + 0.2 × 600');
      await release(k, 'c', '', 0, 5000);
      assert.equal(await redis.get(k.release[3]), '200.0');
    });

    it('opens the circuit after `threshold` consecutive failures; a success in between resets the count', async () => {
      const k = keys();
      await release(k, 'a', 'timeout', 1);
      await release(k, 'b', 'network_error', 1);
      await release(k, 'c', 'success', 0);
      assert.equal(await redis.exists(k.release[1]), 0, 'a success resets the count');
      for (const m of ['d', 'e']) await release(k, m, 'timeout', 1);
      assert.equal(await redis.exists(k.release[2]), 0, 'two in a row: still closed');
      await release(k, 'f', 'timeout', 1);
      assert.equal(await redis.exists(k.release[2]), 1, 'three in a row: open');
      assert.equal(await redis.exists(k.release[1]), 0, 'the count starts over');
      const [granted, , circuitPttl] = await acquire(k, 'g');
      assert.equal(granted, 0);
      assert.ok(circuitPttl > 0 && circuitPttl <= 5_000, `circuit open for ${circuitPttl} ms`);
      assert.equal(await redis.zcard(k.acquire[0]), 0, 'no lease is taken while open');
    });

    it('never grants more than the cap to concurrent callers', async () => {
      const k = keys();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => acquire(k, `m${i}`)));
      assert.equal(answers.filter(([g]) => g === 1).length, CAP);
      assert.equal(await redis.zcard(k.acquire[0]), CAP);
    });
  });
});
