/**
 * Sealed secrets bound to their record and field (issue 20, "secret-box AAD holding only the key
 * id"): records sealed in the old format (v1) keep working, and the existing re-seal route rewrites
 * them in the bound format (v2) without a new master key.
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TenantModel } from '../../models/platform/tenant.js';
import { TenantStore } from '../../models/platform/tenant-store.js';
import type { Sealed } from '../../platform/secret-box.js';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';

/** What the relay sealed before format v2: AES-256-GCM bound to the key id only. */
function sealV1(key: Buffer, kid: string, plaintext: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

describe('platform: sealed secrets bound to their record', function () {
  this.timeout(60_000);
  let relay: Relay;
  let redis: Redis;
  before(async () => {
    relay = await startRelay('secret_binding');
    redis = new Redis(relay.config.redisUrl);
  });
  after(async () => {
    redis?.disconnect();
    await relay?.stop();
  });

  it('a tenant secret sealed in the old format still signs; the re-seal route rewrites it bound to its tenant', async () => {
    const creds: TenantCreds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    const fresh = (await TenantModel.findById(creds.tenantId).lean())?.secret;
    assert.equal(fresh?.v, 2, 'a new tenant secret is sealed bound to its tenant');

    // The record as an older relay wrote it.
    const ring = relay.config.secretsMasterKey;
    const key = ring.keys.get(ring.currentId);
    assert.ok(key);
    await TenantModel.updateOne({ _id: creds.tenantId }, { $set: { secret: sealV1(key, ring.currentId, creds.secret) } });
    await new TenantStore(redis, ring, relay.config.queuePrefix).bump(creds.tenantId);
    const call = () => signed(relay.baseUrl, creds, 'GET', '/relay/fetch/devices?user_socket_hash=nobody-paired-0000');
    assert.equal((await call()).status, 404, 'the v1 secret opens: past the gate');

    const r = await admin(relay.baseUrl, 'POST', '/reseal/tenant-secrets');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.data.resealed >= 1, JSON.stringify(r.body.data));
    const resealed = (await TenantModel.findById(creds.tenantId).lean())?.secret;
    assert.equal(resealed?.v, 2, 're-sealed in the bound format under the same key');
    assert.equal(resealed?.kid, ring.currentId);
    assert.equal((await call()).status, 404, 'and it still signs');
    assert.equal((await admin(relay.baseUrl, 'POST', '/reseal/tenant-secrets')).body.data.resealed, 0, 'idempotent');
  });
});
