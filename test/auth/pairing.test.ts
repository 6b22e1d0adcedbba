/**
 * Auth Relay pairing and devices (docs/contract.md §2.1) through HTTP against real Redis and FerretDB: the
 * seed's prepare-pairing, the device redeeming the proof, the refusals, refresh/unpair, and the
 * backend's device list and revocation.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mintToken } from '../../platform/tokens.js';
import { generateDeviceKey } from '../../api/auth/device-protocol.js';
import { DeviceClient } from '../../scripts/device.js';
import { call, provision, signed, type TenantCreds } from '../support/client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { signedRouteSecurity } from '../support/security-suite.js';
import { newUserHash, pairDevice, prepareProof, seedPairingBody } from './support.js';

describe('auth relay: pairing and devices', () => {
  let relay: Relay;
  let second: Child;
  let creds: TenantCreds;
  before(async () => {
    relay = await startRelay('auth_pairing');
    second = await spawnApi(relay.env);
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
  });
  after(async () => {
    await second?.kill();
    await relay?.stop();
  });

  const expectError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.success, false);
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
  };

  it('prepare-pairing signed exactly as the seed recipe answers 201 with a single-use proof', async () => {
    // The seed's Python: body = json.dumps(..., separators=(",", ":")); sig = hmac(secret, f"{ts}.{sha256(body)}").
    const body = JSON.stringify(seedPairingBody(newUserHash()));
    const ts = String(Date.now());
    const sig = createHmac('sha256', creds.secret)
      .update(`${ts}.${createHash('sha256').update(body).digest('hex')}`)
      .digest('hex');
    const r = await call(relay.baseUrl, 'POST', '/api/v1/relay/prepare-pairing', {
      headers: {
        'X-Bloonio-Tenant-Id': creds.tenantId,
        'X-Bloonio-Timestamp': ts,
        'X-Bloonio-Signature': sig,
        'Content-Type': 'application/json',
      },
      body,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.message, 'Pairing prepared. Forward pairing_proof to the device.');
    assert.equal(r.body.data.expires_in, 300);
    assert.match(r.body.data.pairing_proof, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
  });

  it('422 without user_email and user_phone, and for a bad email, listing the fields', async () => {
    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/prepare-pairing', {
      user_socket_hash: newUserHash(),
      backend_user_id: 'u1',
      display_name: 'X',
    });
    expectError(r, 422, 'VALIDATION_FAILED');
    assert.ok(
      r.body.error.details.some((d: string) => d.startsWith('user_email:')),
      JSON.stringify(r.body.error.details),
    );
    const r2 = await signed(relay.baseUrl, creds, 'POST', '/relay/prepare-pairing', {
      ...seedPairingBody(newUserHash()),
      user_email: 'not-an-email',
    });
    expectError(r2, 422, 'VALIDATION_FAILED');
  });

  it('a device redeems the proof: session token, pairing and relay_user link; the backend lists it', async () => {
    const hash = newUserHash();
    const device = DeviceClient.create(relay.baseUrl);
    const r = await device.pair(await prepareProof(relay.baseUrl, creds, hash), {
      deviceName: 'Jane phone',
      platform: 'android',
      fcmToken: 'fcm-token-jane-phone-0001',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.body.data.device_session_token, /^dsk_[\w-]{65}$/);
    assert.match(r.body.data.pairing.relay_user_linked_id, /^[0-9a-f]{24}$/);
    assert.equal(r.body.data.pairing.user_socket_hash, hash);
    const days = (Date.parse(r.body.data.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `session lasts ~30 days, got ${days}`);

    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.data.relay_user_linked_id, r.body.data.pairing.relay_user_linked_id);
    assert.deepEqual(
      list.body.data.devices.map((d: any) => [d.device_id, d.device_name, d.platform, d.status, d.push_enabled]),
      [[device.state.deviceId, 'Jane phone', 'android', 'active', true]],
    );
    assert.ok(!JSON.stringify(list.body).includes(device.state.sessionToken!), 'never shows the session token');
  });

  it('a second device joins the same pairing (one pairing per user), with the same relay_user link', async () => {
    const hash = newUserHash();
    const a = await pairDevice(relay.baseUrl, creds, hash);
    const b = await pairDevice(relay.baseUrl, creds, hash);
    assert.equal(a.state.pairing?.pairing_id, b.state.pairing?.pairing_id);
    assert.equal(a.state.pairing?.relay_user_linked_id, b.state.pairing?.relay_user_linked_id);
    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    assert.equal(list.body.data.devices.length, 2);
  });

  it('410 GONE for a proof used twice (also from another API process)', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    assert.equal((await DeviceClient.create(relay.baseUrl).pair(proof)).status, 201);
    expectError(await DeviceClient.create(relay.baseUrl).pair(proof), 410, 'GONE');
    expectError(await DeviceClient.create(second.url).pair(proof), 410, 'GONE');
  });

  it('only one of two devices racing with the same proof wins', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    const results = await Promise.all([relay.baseUrl, second.url, relay.baseUrl].map((u) => DeviceClient.create(u).pair(proof)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 410, 410]);
  });

  it('410 EXPIRED for an expired proof', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString());
    // The same intent, with a proof the relay itself issued 301 s ago.
    const old = mintToken(
      relay.config.secretsMasterKey,
      'pairing',
      { tid: creds.tenantId, pin: claims.pin },
      300,
      Date.now() - 301_000,
    ).token;
    expectError(await DeviceClient.create(relay.baseUrl).pair(old), 410, 'EXPIRED');
  });

  it('401 INVALID_TOKEN for a forged proof, a tampered one, or one presented for another tenant', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    const [h, p, mac] = proof.split('.') as [string, string, string];
    const other = await provision(relay.baseUrl);
    // Payload changed to another tenant, signature kept.
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const swapped = `${h}.${Buffer.from(JSON.stringify({ ...claims, tid: other.tenantId })).toString('base64url')}.${mac}`;
    expectError(await DeviceClient.create(relay.baseUrl).pair(swapped), 401, 'INVALID_TOKEN');
    // Signed with a key the relay does not hold.
    const forged = `${h}.${p}.${createHmac('sha256', 'not-the-relay-key').update(`${h}.${p}`).digest('base64url')}`;
    expectError(await DeviceClient.create(relay.baseUrl).pair(forged), 401, 'INVALID_TOKEN');
    expectError(await DeviceClient.create(relay.baseUrl).pair('eyJnotatoken.x.y'), 401, 'INVALID_TOKEN');
    // A genuine proof, but the device says it is pairing with another tenant.
    expectError(await DeviceClient.create(relay.baseUrl).pair(proof, { tenantId: other.tenantId }), 401, 'INVALID_TOKEN');
    // None of these consumed it.
    assert.equal((await DeviceClient.create(relay.baseUrl).pair(proof, { tenantId: creds.tenantId })).status, 201);
  });

  it('401 INVALID_SIGNATURE when register-token is not signed by the key being registered', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    const device = DeviceClient.create(relay.baseUrl);
    device.state.publicJwk = generateDeviceKey().publicJwk; // registers a key it does not hold
    expectError(await device.pair(proof), 401, 'INVALID_SIGNATURE');
  });

  it('device requests: replay, stale timestamp, body changed after signing, bad token', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    const path = '/api/v1/device/update-push-token';
    const raw = JSON.stringify({ fcm_token: 'fcm-token-replay-test-0001' });
    const { deviceRequestHeaders } = await import('../../api/auth/device-protocol.js');
    const headers = {
      ...deviceRequestHeaders(device.state.privateKeyPem, 'POST', path, raw),
      Authorization: `Bearer ${device.state.sessionToken}`,
      'Content-Type': 'application/json',
    };
    assert.equal((await call(relay.baseUrl, 'POST', path, { headers, body: raw })).status, 200);
    expectError(await call(relay.baseUrl, 'POST', path, { headers, body: raw }), 401, 'REPLAY_DETECTED');
    expectError(await call(second.url, 'POST', path, { headers, body: raw }), 401, 'REPLAY_DETECTED');
    const stale = {
      ...deviceRequestHeaders(device.state.privateKeyPem, 'POST', path, raw, Date.now() - 61_000),
      Authorization: headers.Authorization,
      'Content-Type': 'application/json',
    };
    expectError(await call(relay.baseUrl, 'POST', path, { headers: stale, body: raw }), 401, 'TIMESTAMP_OUT_OF_WINDOW');
    const fresh = {
      ...deviceRequestHeaders(device.state.privateKeyPem, 'POST', path, raw),
      Authorization: headers.Authorization,
      'Content-Type': 'application/json',
    };
    expectError(await call(relay.baseUrl, 'POST', path, { headers: fresh, body: raw.replace('0001', '0002') }), 401, 'INVALID_SIGNATURE');
    expectError(
      await device.request('POST', '/device/update-push-token', { fcm_token: null }, { bearer: 'dst_' + 'A'.repeat(43) }),
      401,
      'INVALID_TOKEN',
    );
    // Another device's key with this device's token.
    const thief = DeviceClient.create(relay.baseUrl);
    thief.state.sessionToken = device.state.sessionToken;
    expectError(await thief.updatePushToken(null), 401, 'INVALID_SIGNATURE');
  });

  it('refresh rotates the session token: the old one stops at once', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    const old = device.state.sessionToken!;
    const r = await device.refresh();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.notEqual(device.state.sessionToken, old);
    assert.equal((await device.updatePushToken(null)).status, 200);
    expectError(await device.request('POST', '/device/update-push-token', { fcm_token: null }, { bearer: old }), 401, 'INVALID_TOKEN');
  });

  it('unpair revokes the device; the backend sees it revoked; its token stops working', async () => {
    const hash = newUserHash();
    const keep = await pairDevice(relay.baseUrl, creds, hash);
    const device = await pairDevice(relay.baseUrl, creds, hash);
    assert.equal((await device.unpair()).status, 200);
    expectError(await device.refresh(), 401, 'INVALID_TOKEN');
    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    const byId = Object.fromEntries(list.body.data.devices.map((d: any) => [d.device_id, d.status]));
    assert.deepEqual(byId, { [keep.state.deviceId!]: 'active', [device.state.deviceId!]: 'revoked' });
  });

  it('the backend revokes a device; another tenant gets 404 for the user and the device', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const other = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    expectError(await signed(relay.baseUrl, other, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`), 404, 'NOT_FOUND');
    expectError(
      await signed(relay.baseUrl, other, 'POST', '/relay/revoke/device', { user_socket_hash: hash, device_id: device.state.deviceId }),
      404,
      'NOT_FOUND',
    );
    assert.equal((await device.refresh()).status, 200, 'untouched by the other tenant');

    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/revoke/device', {
      user_socket_hash: hash,
      device_id: device.state.deviceId,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.status, 'revoked');
    expectError(await device.refresh(), 401, 'INVALID_TOKEN');
    assert.equal(
      (await signed(relay.baseUrl, creds, 'POST', '/relay/revoke/device', { user_socket_hash: hash, device_id: device.state.deviceId }))
        .status,
      200,
      'idempotent',
    );
  });

  // ----- the shared HMAC suite on every new /relay/* route of this file -----
  // The suite reuses one body for several tenants (including a fresh one it suspends and
  // reactivates), so routes addressing a user's resources are driven with a user no tenant paired:
  // "signed and accepted" then shows as the route's own 404 (the platform suite does the same
  // with a 409), while every HMAC refusal still comes first. The 200 paths are tested above.
  const suiteCtx = () => ({ baseUrl: relay.baseUrl, secondBaseUrl: second.url });
  signedRouteSecurity('prepare-pairing', suiteCtx, {
    method: 'POST',
    path: '/relay/prepare-pairing',
    body: () => seedPairingBody(newUserHash()),
    okStatus: 201,
  });
  signedRouteSecurity('fetch/devices (unpaired user → 404 once signed)', suiteCtx, {
    method: 'GET',
    path: '/relay/fetch/devices?user_socket_hash=ush_never_paired_user',
    okStatus: 404,
  });
  signedRouteSecurity('revoke/device (unknown device → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/revoke/device',
    body: () => ({ user_socket_hash: 'ush_never_paired_user', device_id: 'dev_01jf0000000000000000000000' }),
    okStatus: 404,
  });
});
