/**
 * Redis keeps what it acknowledged (platform/redis-durability.ts, docs/operations.md "Durability"): the relay's own
 * Redis runs with AOF, `appendfsync always` and noeviction, and the web process says in its log, at
 * start, when the Redis it is given does not (a crash could lose acknowledged work) or cannot be read.
 * Real Redis servers throughout: the one scripts/with-services.sh started, and private ones.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger } from '../../platform/logger.js';
import { checkRedisDurability } from '../../platform/redis-durability.js';
import { redisCli, redisServerAvailable, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';

function logged() {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
  return { lines, logger: createLogger('info', 'test', sink) };
}

describe('Redis durability settings', function () {
  this.timeout(60_000);
  const servers: PrivateRedis[] = [];
  const clients: Redis[] = [];
  const client = (url: string) => {
    const c = new Redis(url, { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  before(function () {
    if (!redisServerAvailable()) this.skip();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    for (const s of servers) await s.destroy();
  });

  it("the relay's Redis (scripts/with-services.sh) answers CONFIG GET appendfsync with always, AOF on, noeviction", async function () {
    if (!process.env.LOCAL_SERVICES_PID) this.skip(); // REDIS_URL given from outside: not ours to check
    const { lines, logger } = logged();
    const report = await checkRedisDurability(client(process.env.REDIS_URL!), logger);
    assert.deepEqual(report.settings, { appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' });
    assert.deepEqual(report.problems, []);
    assert.deepEqual(lines, [], 'nothing to say');
  });

  it('a Redis with appendfsync everysec and an eviction policy: each named in a warning, with what it risks', async () => {
    const redis = await startPrivateRedis('durability-settings', ['--appendfsync', 'everysec', '--maxmemory-policy', 'allkeys-lru']);
    servers.push(redis);
    const { lines, logger } = logged();
    const report = await checkRedisDurability(client(redis.url), logger);
    assert.deepEqual(report.problems, ['appendfsync', 'maxmemory-policy']);
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.deepEqual(
      warnings.map((w) => [w.setting, w.value, w.recommended]),
      [
        ['appendfsync', 'everysec', 'always'],
        ['maxmemory-policy', 'allkeys-lru', 'noeviction'],
      ],
    );
    assert.match(warnings[0]!.msg, /crash loses what it acknowledged/);
    // Set right, the same Redis is quiet.
    redisCli(redis.port, 'config', 'set', 'appendfsync', 'always');
    redisCli(redis.port, 'config', 'set', 'maxmemory-policy', 'noeviction');
    const again = logged();
    assert.deepEqual((await checkRedisDurability(client(redis.url), again.logger)).problems, []);
    assert.deepEqual(again.lines, []);
  });

  it('a Redis that refuses CONFIG (as managed services do): one line says what to check, never a failure', async () => {
    const redis = await startPrivateRedis('durability-noconfig', ['--rename-command', 'CONFIG', '']);
    servers.push(redis);
    const { lines, logger } = logged();
    const report = await checkRedisDurability(client(redis.url), logger);
    assert.equal(report.checked, false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /appendfsync always/);
  });
});
