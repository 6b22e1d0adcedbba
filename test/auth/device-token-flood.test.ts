/**
 * Device bearer floods (issue 20): a made-up `Authorization: Bearer …` on /device/* must cost neither
 * a MongoDB lookup nor a Redis key. Device session tokens carry a MAC (platform/tokens.ts), so a
 * random one is refused (401) by arithmetic; an old-format token is still looked up for the
 * transition, but its "unknown" is never cached. Observed from outside: Redis DBSIZE, and the
 * FerretDB server's own command counters (serverStatus metrics.commands).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { startRelay, type Relay } from '../support/harness.js';
import { provision, type TenantCreds } from '../support/client.js';
import { newUserHash, pairDevice } from './support.js';

/** The commands the MongoDB server counted so far, by name (FerretDB serverStatus: metrics.commands.<name>.total). */
async function mongoCommands(): Promise<Record<string, number>> {
  const s = (await mongoose.connection.db!.admin().command({ serverStatus: 1 })) as {
    metrics?: { commands?: Record<string, { total?: number }> };
  };
  return Object.fromEntries(Object.entries(s.metrics?.commands ?? {}).map(([k, c]) => [k, Number(c.total ?? 0)]));
}

describe('auth relay: device bearer floods', function () {
  this.timeout(120_000);
  let relay: Relay;
  let creds: TenantCreds;
  let redis: Redis;

  before(async () => {
    relay = await startRelay('device-flood');
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    redis = new Redis(relay.config.redisUrl);
  });
  after(async () => {
    redis?.disconnect();
    await relay?.stop();
  });

  it('1,000 random bearer tokens: 401 each, no Redis key written, no MongoDB command', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    assert.match(String(device.state.sessionToken), /^dsk_[\w-]{65}$/, 'the session token carries its MAC');
    assert.equal((await device.poll()).status, 200, 'a real token works');

    // Made-up tokens of every shape: the new format with a wrong MAC, and anything else.
    const tokens = Array.from({ length: 1000 }, (_, i) =>
      i % 2 ? `dsk_${randomBytes(49).toString('base64url').slice(0, 65)}` : randomBytes(24 + (i % 40)).toString('base64url'),
    );
    const m1 = await mongoCommands();
    const keysBefore = await redis.dbsize();
    for (let i = 0; i < tokens.length; i += 50) {
      const answers = await Promise.all(
        tokens.slice(i, i + 50).map((t) => device.request('GET', '/device/requests', undefined, { bearer: t })),
      );
      for (const a of answers) {
        assert.equal(a.status, 401, JSON.stringify(a.body));
        assert.equal(a.body.error?.code, 'INVALID_TOKEN');
      }
    }
    const m2 = await mongoCommands();
    const keysAfter = await redis.dbsize();
    // A lookup is a `find` (findOne) on the devices collection: none happened during the flood.
    assert.equal(m2.find ?? 0, m1.find ?? 0, `MongoDB commands before ${JSON.stringify(m1)}, after ${JSON.stringify(m2)}`);
    assert.ok(keysAfter <= keysBefore, `Redis grew from ${keysBefore} to ${keysAfter} keys`);
  });

  it('old-format tokens: still looked up for the transition, but an unknown one is never cached', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    const keysBefore = await redis.dbsize();
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        device.request('GET', '/device/requests', undefined, { bearer: `dst_${randomBytes(32).toString('base64url')}` }),
      ),
    );
    for (const a of answers) assert.ok([401, 429].includes(a.status), JSON.stringify(a.body));
    assert.ok(answers.some((a) => a.status === 401));
    // At most the lookup budget's window counters (one key per second), never one key per token.
    const grown = (await redis.dbsize()) - keysBefore;
    assert.ok(grown <= 3, `Redis grew by ${grown} keys for 40 unknown legacy tokens`);
  });
});
