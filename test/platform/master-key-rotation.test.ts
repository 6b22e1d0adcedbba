/**
 * Rotating the master key (SECRETS_MASTER_KEY) without logging anyone out: tokens minted under the old
 * key keep working while it stays configured after the new one; tenant secrets are re-sealed under the
 * new key; once the old key is removed its tokens are refused (401) and nothing else breaks. Three real
 * API processes share one Redis and FerretDB: before, during and after the rotation.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newUserHash, pairDevice } from '../auth/support.js';
import { asOperator, createSession, provisionOperator } from '../support/chat-client.js';
import { admin, call, provision, signed, type TenantCreds } from '../support/client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';

describe('master-key rotation', function () {
  this.timeout(60_000);
  let relay: Relay;
  let rotated: Child;
  let newOnly: Child;
  let creds: TenantCreds;
  const oldKey = () => relay.env.SECRETS_MASTER_KEY ?? '';
  const newKey = `next:${randomBytes(32).toString('hex')}`;

  before(async () => {
    relay = await startRelay('key_rotation', { CHAT_VISITOR_TOKEN_TTL_SECONDS: '3600' });
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
  });
  after(async () => {
    await rotated?.kill();
    await newOnly?.kill();
    await relay?.stop();
  });

  const refreshVisitor = (base: string, token: string) =>
    call(base, 'POST', '/api/v1/refresh/visitor-token', { headers: { Authorization: `Bearer ${token}`, Origin: ORIGIN } });

  it('tokens and device sessions minted before the rotation work after it; a removed key refuses its tokens with 401', async () => {
    // Before: everything minted under the old key.
    const visitor = await createSession(relay.baseUrl, creds, ORIGIN);
    assert.equal(visitor.status, 201, JSON.stringify(visitor.body));
    const op = await provisionOperator(relay.baseUrl, creds, 'rotating@example.com');
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());

    // During: the new key first, the old one after it.
    rotated = await spawnApi({ ...relay.env, SECRETS_MASTER_KEY: `${newKey},${oldKey()}` });
    assert.equal((await refreshVisitor(rotated.url, visitor.token)).status, 200, 'visitor token of the old key');
    assert.equal((await asOperator(rotated.url, op.token, 'GET', '/operator/fetch/queue')).status, 200, 'operator token of the old key');
    device.state.relay = rotated.url;
    assert.equal((await device.poll()).status, 200, 'device session');
    assert.equal(
      (await signed(rotated.url, creds, 'GET', '/relay/fetch/devices?user_socket_hash=nobody-here')).status,
      404,
      'HMAC: the sealed secret opens',
    );
    // New tokens are minted under the new key; the secrets are re-sealed under it.
    const fresh = await createSession(rotated.url, creds, ORIGIN);
    const header = JSON.parse(Buffer.from(fresh.token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
    assert.equal(header.kid, 'next');
    const freshOp = await provisionOperator(rotated.url, creds, 'rotated@example.com');
    const reseal = await admin(rotated.url, 'POST', '/reseal/tenant-secrets', {});
    assert.equal(reseal.status, 200, JSON.stringify(reseal.body));
    assert.ok(reseal.body.data.resealed >= 1);
    assert.equal((await admin(rotated.url, 'POST', '/reseal/tenant-secrets', {})).body.data.resealed, 0, 'idempotent');

    // After: the old key removed.
    newOnly = await spawnApi({ ...relay.env, SECRETS_MASTER_KEY: newKey });
    const oldVisitor = await refreshVisitor(newOnly.url, visitor.token);
    assert.equal(oldVisitor.status, 401, JSON.stringify(oldVisitor.body));
    assert.equal(oldVisitor.body.error.code, 'INVALID_TOKEN');
    const oldOp = await asOperator(newOnly.url, op.token, 'GET', '/operator/fetch/queue');
    assert.equal(oldOp.status, 401, JSON.stringify(oldOp.body));
    assert.equal((await refreshVisitor(newOnly.url, fresh.token)).status, 200, 'a token of the new key');
    assert.equal((await asOperator(newOnly.url, freshOp.token, 'GET', '/operator/fetch/queue')).status, 200);
    // Device session tokens carry a MAC under a key derived from the master key (so a made-up bearer
    // costs no lookup): like every other token, they stop with the key that made them.
    device.state.relay = newOnly.url;
    assert.equal((await device.poll()).status, 401, 'a device session of the removed key is refused');
    assert.equal(
      (await signed(newOnly.url, creds, 'GET', '/relay/fetch/devices?user_socket_hash=nobody-here')).status,
      404,
      'HMAC after re-sealing',
    );
  });
});
