/**
 * The HMAC gate's low findings of issue 20: a replay key outlives every clock's window for its
 * signature, and an unsigned caller cannot tell a tenant that exists (or is suspended) from one
 * that does not.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { sign } from '../../platform/signing.js';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';

/** How far apart API processes' clocks may be and still share replay protection (api/principals/hmac.ts). */
const SKEW_MS = 30_000;
const WINDOW_MS = 30_000;
/** A signed GET any tenant may make: 404 (no such pairing) once the gate lets it through. */
const PATH = '/relay/fetch/devices?user_socket_hash=nobody-paired-0000';

describe('platform: HMAC gate, replay keys and tenant existence', function () {
  this.timeout(60_000);
  let relay: Relay;
  let redis: Redis;
  let creds: TenantCreds;
  before(async () => {
    relay = await startRelay('signatures');
    redis = new Redis(relay.config.redisUrl);
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
  });
  after(async () => {
    redis?.disconnect();
    await relay?.stop();
  });

  it('the replay key lives until no process within the clock skew still accepts the timestamp, on both sides of the window', async () => {
    for (const offset of [29_000, 0, -29_000]) {
      const ts = Date.now() + offset; // a caller whose clock is ahead of or behind ours
      const r = await signed(relay.baseUrl, creds, 'GET', PATH, undefined, { timestampMs: ts });
      assert.equal(r.status, 404, JSON.stringify(r.body)); // past the gate: no such pairing
      const key = redisKey.signatureSeen(relay.config.queuePrefix, creds.tenantId, sign(creds.secret, String(ts), ''));
      const pttl = await redis.pttl(key);
      // A process whose clock lags ours by SKEW_MS accepts this timestamp until our ts + WINDOW_MS + SKEW_MS.
      const needed = ts + WINDOW_MS + SKEW_MS - Date.now();
      assert.ok(
        pttl >= needed,
        `timestamp ${offset} ms from now: replay key lives ${pttl} ms, a lagging process accepts it ${needed} ms more`,
      );
    }
  });

  it('an unknown tenant and a wrong signature for a known or a suspended tenant answer identically', async () => {
    const suspended = await provision(relay.baseUrl);
    assert.equal((await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${suspended.tenantId}`)).status, 200);
    const answers = [
      await signed(relay.baseUrl, creds, 'GET', PATH, undefined, { tenantId: 'tnt_0123456789abcdef01234567' }),
      await signed(relay.baseUrl, creds, 'GET', PATH, undefined, { secret: 'sk_not_the_secret' }),
      await signed(relay.baseUrl, suspended, 'GET', PATH, undefined, { secret: 'sk_not_the_secret' }),
      await signed(relay.baseUrl, creds, 'GET', PATH, undefined, { tenantId: 'not-even-an-id' }),
    ].map((r) => ({ status: r.status, body: { ...r.body, error: { ...r.body.error, request_id: null } } }));
    for (const a of answers) assert.deepEqual(a, answers[0]);
    assert.equal(answers[0]?.status, 401);
    assert.equal(answers[0]?.body.error.code, 'INVALID_SIGNATURE');
    // Its own secret still learns that it is suspended.
    const own = await signed(relay.baseUrl, suspended, 'GET', PATH);
    assert.equal(own.status, 403, JSON.stringify(own.body));
    assert.equal(own.body.error.code, 'TENANT_SUSPENDED');
  });
});
