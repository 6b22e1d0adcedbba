/**
 * RelayClient against the live relay: the seed's pairing call, devices, challenges and alerts with
 * the reference device answering, passkey options, and every kind of error, typed from the envelope.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AuthenticationError,
  ConflictError,
  DataType,
  NotFoundError,
  PermissionDeniedError,
  RelayClient,
  RelayError,
  SudoActionType,
  ValidationFailedError,
} from '../src/index.js';
import { eventually, pairUser, relay, socketHash, type Relay, type Tenant } from './support/relay.js';

const rejects = async <E extends Error>(p: Promise<unknown>, cls: new (...a: any[]) => E): Promise<E> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    return e;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name}, nothing was thrown` });
};

describe('RelayClient against the live relay', function () {
  this.timeout(60_000);
  let r: Relay;
  let tenant: Tenant;
  let client: RelayClient;

  before(async function () {
    this.timeout(120_000);
    r = await relay();
    tenant = await r.provision('ts-client');
    client = new RelayClient({ baseUrl: r.url, tenantId: tenant.tenantId, tenantSecret: tenant.tenantSecret });
  });

  it('prepares a pairing with the seed’s arguments and resolves to the answer’s data', async () => {
    const result = await client.preparePairing({
      userSocketHash: socketHash(),
      backendUserId: '507f1f77bcf86cd799439011',
      userEmail: 'jane@example.com',
      userPhone: '+33 6 12 34 56 78',
      firstName: 'Jane',
      lastName: 'Doe',
      displayName: 'Example',
      displayLogoUrl: 'https://example.com/logo.png',
    });
    const pairingProof = result.pairingProof; // to forward to the device
    assert.equal(pairingProof.split('.').length, 3);
    assert.equal(result.expiresIn, 300);
    assert.deepEqual(Object.keys(result).sort(), ['expiresAt', 'expiresIn', 'pairingProof']);
    assert.equal(result.lastResponse.statusCode, 201);
    assert.equal(result.lastResponse.message, 'Pairing prepared. Forward pairing_proof to the device.');
    assert.ok(result.lastResponse.requestId);
  });

  it('lists and revokes devices (a revoke is idempotent)', async () => {
    const { user, paired } = await pairUser(r, tenant, "Jane's phone");
    const listed = await client.fetchDevices({ userSocketHash: user });
    assert.equal(listed.relayUserLinkedId, paired.pairing.relay_user_linked_id);
    assert.deepEqual(
      listed.devices.map((d) => [d.deviceId, d.deviceName, d.status]),
      [[paired.device_id, "Jane's phone", 'active']],
    );
    const revoked = await client.revokeDevice({ userSocketHash: user, deviceId: paired.device_id });
    assert.equal(revoked.status, 'revoked');
    const again = await client.revokeDevice({ userSocketHash: user, deviceId: paired.device_id });
    assert.equal(again.status, 'revoked');
    assert.equal(again.lastResponse.statusCode, 200);
    assert.equal((await client.fetchDevices({ userSocketHash: user })).devices[0]?.status, 'revoked');
  });

  for (const decision of ['approve', 'deny'] as const) {
    it(`pushes a challenge the device ${decision === 'approve' ? 'approves' : 'denies'}, and its status follows`, async () => {
      const { user, device } = await pairUser(r, tenant);
      const iid = `ins-${randomBytes(6).toString('hex')}`;
      const sent = await client.sendAuthChallenge({
        userSocketHash: user,
        instructionId: iid,
        customType: SudoActionType.LOCAL_AUTH,
        expectedAction: 'login',
        description: 'Sign in to Example',
        ttlSeconds: 120,
        title: 'Connexion de Zoé — 💶 café', // non-ASCII: signed over the exact UTF-8 bytes sent
        fields: [{ key: 'ip', title: 'From', value: '203.0.113.7', dataType: DataType.IP_ADDRESS }],
      });
      assert.equal(sent.instructionId, iid);
      assert.equal(sent.status, 'pending');
      assert.equal((await client.fetchDeliveryStatus({ instructionId: iid })).status, 'pending');
      const req = await device.requestFor(iid);
      assert.equal(req.content.display.title, 'Connexion de Zoé — 💶 café');
      assert.deepEqual(req.content.display.fields, [{ key: 'ip', title: 'From', value: '203.0.113.7', data_type: 'IP_ADDRESS' }]);
      const answered = decision === 'approve' ? await device.approve(req.request_id) : await device.deny(req.request_id);
      assert.equal(answered.status, 200);
      const status = await eventually(async () => {
        const s = await client.fetchDeliveryStatus({ instructionId: iid });
        return s.status !== 'pending' && s;
      }, 'the challenge is decided');
      assert.equal(status.status, decision === 'approve' ? 'approved' : 'denied');
      assert.equal(status.kind, 'auth-challenge');
      assert.equal(status.outcome?.decision, decision); // the outcome's keys are camelCase too
      assert.equal(status.outcome?.instructionId, iid);
    });
  }

  it('pushes a goldenNumber challenge: the numbers to pick among, and the one expected', async () => {
    const { user, device } = await pairUser(r, tenant);
    const iid = `ins-${randomBytes(6).toString('hex')}`;
    const sent = await client.sendAuthChallenge({
      userSocketHash: user,
      instructionId: iid,
      customType: SudoActionType.GOLDEN_NUMBER,
      expectedAction: 'login',
      numbers: [12, 47, 83],
      expectedNumber: 47,
      title: 'Pick the number shown on your screen',
    });
    assert.equal(sent.status, 'pending');
    const req = await device.requestFor(iid);
    assert.deepEqual(req.content.numbers, [12, 47, 83]);
    assert.equal((await device.approve(req.request_id, '47')).status, 200);
    const status = await eventually(async () => {
      const s = await client.fetchDeliveryStatus({ instructionId: iid });
      return s.status !== 'pending' && s;
    }, 'the challenge is decided');
    assert.equal(status.status, 'approved');
  });

  it('sends a security alert the device shows', async () => {
    const { user, device } = await pairUser(r, tenant);
    const iid = `alert-${randomBytes(6).toString('hex')}`;
    const sent = await client.sendSecurityAlert({
      userSocketHash: user,
      title: 'New sign-in',
      body: 'From Paris',
      alertType: 'new_login',
      instructionId: iid,
    });
    assert.equal(sent.status, 'informational');
    const req = await device.requestFor(iid);
    assert.equal(req.kind, 'security-alert');
    assert.equal(req.content.title, 'New sign-in');
  });

  it('calls the passkey routes (options, list; the ceremonies themselves need a browser)', async () => {
    const t = await r.provision('ts-passkeys', { webauthn_rp_id: 'localhost', webauthn_origins: ['http://localhost:3000'] });
    const c = new RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });
    const reg = await c.webauthnRegisterOptions({
      username: 'jane@example.com',
      backendUserId: 'u-passkey',
      browserOrigin: 'http://localhost:3000',
    });
    // The options go to the browser exactly as the relay wrote them (WebAuthn's own camelCase JSON).
    assert.equal((reg.options.rp as any).id, 'localhost');
    assert.ok(Array.isArray(reg.options.pubKeyCredParams));
    assert.equal((reg.options.user as any).name, 'jane@example.com');
    const listed = await c.webauthnFetchPasskeys({ relayUserLinkedId: reg.relayUserLinkedId });
    assert.deepEqual(listed.passkeys, []);
    assert.equal(listed.backendUserId, 'u-passkey');
    await rejects(
      c.webauthnAuthenticateOptions({ browserOrigin: 'http://localhost:3000', relayUserLinkedId: reg.relayUserLinkedId }),
      ConflictError,
    );
    const e = await rejects(
      c.webauthnRegisterOptions({ username: 'jane@example.com', backendUserId: 'u-passkey', browserOrigin: 'https://evil.example.net' }),
      PermissionDeniedError,
    );
    assert.equal(e.code, 'ORIGIN_NOT_ALLOWED');
  });

  // ----- errors arrive typed -----

  it('a missing object is a NotFoundError with the relay’s code, status and request id', async () => {
    const e = await rejects(client.fetchDevices({ userSocketHash: socketHash() }), NotFoundError);
    assert.equal(e.code, 'NOT_FOUND');
    assert.equal(e.statusCode, 404);
    assert.ok(e.requestId);
    assert.ok(e instanceof RelayError);
    assert.match(e.message, /^404 NOT_FOUND: .*\[request_id=/);
  });

  it('a validation failure lists every invalid field', async () => {
    const e = await rejects(
      client.preparePairing({ userSocketHash: 'x', backendUserId: 'u1', displayName: 'Example', userEmail: 'nope' }),
      ValidationFailedError,
    );
    assert.equal(e.code, 'VALIDATION_FAILED');
    assert.equal(e.statusCode, 422);
    assert.ok(
      e.details.some((d) => d.startsWith('user_socket_hash:')),
      e.details.join('; '),
    );
    assert.ok(
      e.details.some((d) => d.startsWith('user_email:')),
      e.details.join('; '),
    );
  });

  it('a reused instruction id is a ConflictError', async () => {
    const { user } = await pairUser(r, tenant);
    const args = {
      userSocketHash: user,
      instructionId: `dup-${randomBytes(6).toString('hex')}`,
      customType: 'localAuth',
      expectedAction: 'login',
    } as const;
    await client.sendAuthChallenge(args);
    const e = await rejects(client.sendAuthChallenge(args), ConflictError);
    assert.deepEqual([e.code, e.statusCode], ['CONFLICT', 409]);
  });

  it('a wrong secret and an unknown tenant are AuthenticationErrors; a suspended tenant is PermissionDenied', async () => {
    const wrong = new RelayClient({ baseUrl: r.url, tenantId: tenant.tenantId, tenantSecret: 'sk_wrong' });
    assert.equal((await rejects(wrong.fetchDevices({ userSocketHash: socketHash() }), AuthenticationError)).code, 'INVALID_SIGNATURE');
    const unknown = new RelayClient({ baseUrl: r.url, tenantId: `tnt_${'0'.repeat(24)}`, tenantSecret: 'sk_x' });
    // Answered exactly as a wrong signature: no unsigned caller learns which tenant ids exist.
    assert.equal((await rejects(unknown.fetchDevices({ userSocketHash: socketHash() }), AuthenticationError)).code, 'INVALID_SIGNATURE');
    const t = await r.provision('ts-suspended');
    await r.admin('POST', '/suspend/tenant', {}, { tenant_id: t.tenantId });
    const suspended = new RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });
    const e = await rejects(suspended.fetchDevices({ userSocketHash: socketHash() }), PermissionDeniedError);
    assert.deepEqual([e.code, e.statusCode], ['TENANT_SUSPENDED', 403]);
  });

  it('refuses an unknown argument before sending anything', async () => {
    const sent: string[] = [];
    const c = new RelayClient(
      { baseUrl: r.url, tenantId: tenant.tenantId, tenantSecret: tenant.tenantSecret },
      { fetch: (url, init) => (sent.push(String(url)), fetch(url, init)) },
    );
    await assert.rejects(
      c.fetchDevices({ userSocketHash: socketHash(), usrSocketHash: 'typo' } as never),
      /fetchDevices: unknown argument "usrSocketHash"/,
    );
    // @ts-expect-error: neither eventId nor instructionId
    await assert.rejects(c.sudoFetchEvent({}), /give exactly one of eventId \/ instructionId/);
    // The document's anyOf: an email, a phone number or both; neither is a type error, and refused here.
    const pairing = { userSocketHash: socketHash(), backendUserId: 'u1', displayName: 'Example' };
    // @ts-expect-error: neither userEmail nor userPhone
    await assert.rejects(c.preparePairing(pairing), /preparePairing: give at least one of userEmail \/ userPhone/);
    // @ts-expect-error: null is not an email
    await assert.rejects(c.preparePairing({ ...pairing, userEmail: null }), /give at least one of userEmail \/ userPhone/);
    // The document's if/then/else: numbers (and expectedNumber) go with goldenNumber, and only with it.
    const challenge = { userSocketHash: socketHash(), instructionId: 'ins-golden', expectedAction: 'login' };
    // @ts-expect-error: goldenNumber without numbers
    await assert.rejects(c.sendAuthChallenge({ ...challenge, customType: 'goldenNumber' }), /customType goldenNumber needs numbers/);
    // @ts-expect-error: numbers without goldenNumber
    await assert.rejects(c.sendAuthChallenge({ ...challenge, customType: 'localAuth', numbers: [1, 2] }), /numbers only with customType/);
    assert.deepEqual(sent, []);
    const byPhone = await c.preparePairing({ ...pairing, userPhone: '+33 6 12 34 56 78', userEmail: null });
    assert.equal(byPhone.lastResponse.statusCode, 201);
  });
});
