/**
 * Passkeys (docs/contract.md §2.5) as a tenant's backend calls them, refusals first: every response the relay
 * judges is made by headless Chromium with a CDP virtual authenticator (test/auth/passkeys-support.ts),
 * and the test plays the backend with signed calls. Then the HMAC suite on all seven routes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { signed, type TenantCreds } from '../support/client.js';
import { sleep, spawnApi, startRelay, eventually, type Child, type Relay } from '../support/harness.js';
import { signedRouteSecurity } from '../support/security-suite.js';
import { pairDevice, seedPairingBody, startReceiver } from './support.js';
import {
  BrowserAuthenticator,
  assertion,
  localOrigin,
  passkeyTenant,
  registerPasskey,
  updateTenant,
  verifyAssertion,
} from './passkeys-support.js';

describe('auth relay: passkeys, refusals (real browser, virtual authenticator)', function () {
  this.timeout(60_000);
  let relay: Relay;
  /** A second API process on the same stores, with 1-second challenges: for expiry, and the HMAC suite's second process. */
  let shortLived: Child;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let origin: string;
  let creds: TenantCreds;
  let auth: BrowserAuthenticator;
  const opened: BrowserAuthenticator[] = [];

  const open = async (c: TenantCreds, at = origin, o = {}) => {
    const a = await BrowserAuthenticator.open(browser, `${at}/dev/passkeys?tenant_id=${c.tenantId}`, o);
    opened.push(a);
    return a;
  };
  const expectError = (r: { status: number; body: any }, status: number, code: string, message?: RegExp) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.success, false);
    assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
    if (message) assert.match(r.body.message, message);
  };
  const call = (path: string, body: unknown, c = creds, url = relay.baseUrl) => signed(url, c, 'POST', `/relay/webauthn${path}`, body);

  before(async () => {
    relay = await startRelay('passkeys_refusals', { RELAY_DEV_PAGES: 'true' });
    await relay.startWorker();
    shortLived = await spawnApi({ ...relay.env, WEBAUTHN_CHALLENGE_TTL_SECONDS: '1' });
    browser = await launchBrowser();
    receiver = await startReceiver();
    origin = localOrigin(relay.baseUrl);
    creds = await passkeyTenant(relay.baseUrl, [origin, 'https://app.example.com'], { callback_url_base: receiver.url });
    receiver.setSecret(creds.secret);
    auth = await open(creds);
  });
  after(async () => {
    for (const a of opened) await a.close().catch(() => undefined);
    await browser?.close();
    await receiver?.close();
    await shortLived?.kill();
    await relay?.stop();
  });

  it('403 ORIGIN_NOT_ALLOWED for a browser_origin outside webauthn_origins, on options and on verify', async () => {
    const reg = { backend_user_id: 'u-origin', username: 'jane', browser_origin: 'https://evil.example.net' };
    expectError(await call('/register/options', reg), 403, 'ORIGIN_NOT_ALLOWED', /not one of this tenant's webauthn_origins/);
    expectError(await call('/authenticate/options', { browser_origin: 'http://localhost:1' }), 403, 'ORIGIN_NOT_ALLOWED');
    // An allowed origin whose host is not under the RP id: the browser would refuse it, the relay says why.
    expectError(
      await call('/register/options', { ...reg, browser_origin: 'https://app.example.com' }),
      403,
      'ORIGIN_NOT_ALLOWED',
      /not under the RP id/,
    );
    // A real response, presented for an origin the tenant does not allow.
    const { response: regResponse } = await registerPasskey(relay.baseUrl, creds, auth, { origin });
    expectError(
      await call('/register/verify', { browser_origin: 'https://evil.example.net', response: regResponse }),
      403,
      'ORIGIN_NOT_ALLOWED',
    );
  });

  it('403 ORIGIN_NOT_ALLOWED when the origin inside the signed client data is not the one the options were issued for', async () => {
    // The tenant allows both origins; the options are asked for one, the ceremony runs on the other
    // (a page relaying someone else's ceremony): the browser signs the origin it really is on.
    const elsewhere = localOrigin(relay.baseUrl, 'app.localhost');
    const tenant = await passkeyTenant(relay.baseUrl, [origin, elsewhere]);
    const page = await open(tenant);
    const opts = await call('/register/options', { backend_user_id: 'u-phish', username: 'jane', browser_origin: elsewhere }, tenant);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const response = await page.create(opts.body.data.options);
    const r = await call('/register/verify', { browser_origin: elsewhere, response }, tenant);
    expectError(r, 403, 'ORIGIN_NOT_ALLOWED', /signed this response for origin http:\/\/localhost:\d+, not http:\/\/app\.localhost/);
    // Nothing was stored.
    const list = await call('/fetch/passkeys', { relay_user_linked_id: opts.body.data.relay_user_linked_id }, tenant);
    assert.deepEqual(list.body.data.passkeys, []);
  });

  it('403 FORBIDDEN when the authenticator signed for another RP id than the tenant expects', async () => {
    // The ceremony runs for RP id app.localhost (then the tenant's RP id); the tenant's RP id becomes
    // localhost before the verify, so the RP id hash inside the signed authenticator data no longer matches.
    const sub = localOrigin(relay.baseUrl, 'app.localhost');
    const tenant = await passkeyTenant(relay.baseUrl, [sub], { webauthn_rp_id: 'app.localhost' });
    const page = await open(tenant, sub);
    const opts = await call('/register/options', { backend_user_id: 'u-rp', username: 'jane', browser_origin: sub }, tenant);
    assert.equal(opts.body.data.options.rp.id, 'app.localhost');
    const regResponse = await page.create(opts.body.data.options);
    const registered = await call('/register/verify', { browser_origin: sub, response: regResponse }, tenant);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const assertionOpts = await call('/authenticate/options', { browser_origin: sub }, tenant);
    const signedForSub = await page.get(assertionOpts.body.data.options);

    const opts2 = await call('/register/options', { backend_user_id: 'u-rp-2', username: 'joe', browser_origin: sub }, tenant);
    const regResponse2 = await page.create(opts2.body.data.options);
    await updateTenant(relay.baseUrl, tenant, { webauthn_rp_id: 'localhost' });
    expectError(await verifyAssertion(relay.baseUrl, tenant, sub, signedForSub), 403, 'FORBIDDEN', /another RP id/);
    expectError(await call('/register/verify', { browser_origin: sub, response: regResponse2 }, tenant), 403, 'FORBIDDEN', /another RP id/);
  });

  it('410 GONE for a challenge used twice (registration and sign-in, also on another API process)', async () => {
    const page = await open(creds);
    const { response, linkId } = await registerPasskey(relay.baseUrl, creds, page, { origin });
    expectError(await call('/register/verify', { browser_origin: origin, response }), 410, 'GONE', /unknown or was already used/);
    const signedIn = await assertion(relay.baseUrl, creds, page, { origin, linkId });
    const first = await verifyAssertion(relay.baseUrl, creds, origin, signedIn);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // The same assertion replayed: refused by the challenge, on this process and on the other one.
    expectError(await verifyAssertion(relay.baseUrl, creds, origin, signedIn), 410, 'GONE');
    expectError(await verifyAssertion(shortLived.url, creds, origin, signedIn), 410, 'GONE');
  });

  it('410 GONE for a challenge of another ceremony, another user or another tenant', async () => {
    const page = await open(creds);
    const a = await registerPasskey(relay.baseUrl, creds, page, { origin });
    // A sign-in challenge answered through register/verify: not a registration challenge.
    const signIn = await assertion(relay.baseUrl, creds, page, { origin, linkId: a.linkId });
    expectError(
      await call('/register/verify', {
        browser_origin: origin,
        response: { ...signIn, response: { ...signIn.response, attestationObject: 'AAAA' } },
      }),
      410,
      'GONE',
    );
    // Options for user A, verify claiming user B.
    const b = await registerPasskey(relay.baseUrl, creds, await open(creds), { origin });
    const forA = await assertion(relay.baseUrl, creds, page, { origin, linkId: a.linkId });
    expectError(
      await verifyAssertion(relay.baseUrl, creds, origin, forA, { relay_user_linked_id: b.linkId }),
      410,
      'GONE',
      /not issued for this user/,
    );
    // Another tenant's challenge: unknown here (the tenant is part of the challenge's key).
    const other = await passkeyTenant(relay.baseUrl, [origin]);
    const forOther = await assertion(relay.baseUrl, creds, page, { origin, linkId: a.linkId });
    expectError(await verifyAssertion(relay.baseUrl, other, origin, forOther), 410, 'GONE');
  });

  it('410 EXPIRED once the challenge has expired (WEBAUTHN_CHALLENGE_TTL_SECONDS)', async () => {
    const page = await open(creds);
    // Options from the process whose challenges last 1 s; the verify goes to the other process.
    const opts = await call(
      '/register/options',
      { backend_user_id: 'u-late', username: 'late', browser_origin: origin },
      creds,
      shortLived.url,
    );
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    assert.ok(Date.parse(opts.body.data.expires_at) - Date.now() <= 1000);
    const response = await page.create(opts.body.data.options);
    await sleep(1300);
    expectError(await call('/register/verify', { browser_origin: origin, response }), 410, 'EXPIRED', /expired/);
    // And it stays refused: an expired challenge is consumed too.
    expectError(await call('/register/verify', { browser_origin: origin, response }), 410, 'GONE');

    const { linkId } = await registerPasskey(relay.baseUrl, creds, page, { origin });
    const signOpts = await call('/authenticate/options', { browser_origin: origin, relay_user_linked_id: linkId }, creds, shortLived.url);
    const late = await page.get(signOpts.body.data.options);
    await sleep(1300);
    expectError(await verifyAssertion(relay.baseUrl, creds, origin, late), 410, 'EXPIRED');
  });

  it("404 for another tenant's credential; the same authenticator registered with two tenants is two credentials", async () => {
    const page = await open(creds);
    const a = await registerPasskey(relay.baseUrl, creds, page, { origin, backendUserId: 'same-person' });
    const other = await passkeyTenant(relay.baseUrl, [origin]);
    // Tenant B asks for a usernameless sign-in; the authenticator offers tenant A's passkey (same RP id).
    const offered = await assertion(relay.baseUrl, other, page, { origin });
    assert.equal(offered.id, a.credentialId);
    expectError(await verifyAssertion(relay.baseUrl, other, origin, offered), 404, 'NOT_FOUND');
    // B cannot list, rename or revoke A's user or passkey either.
    expectError(await call('/fetch/passkeys', { relay_user_linked_id: a.linkId }, other), 404, 'NOT_FOUND');
    expectError(
      await call('/rename/passkey', { relay_user_linked_id: a.linkId, credential_id: a.credentialId, name: 'x' }, other),
      404,
      'NOT_FOUND',
    );
    expectError(await call('/revoke/passkey', { relay_user_linked_id: a.linkId, credential_id: a.credentialId }, other), 404, 'NOT_FOUND');
    // The same authenticator (and the same backend user id) registered with B: a second credential, B's own.
    const b = await registerPasskey(relay.baseUrl, other, page, { origin, backendUserId: 'same-person' });
    assert.notEqual(b.credentialId, a.credentialId);
    assert.notEqual(b.linkId, a.linkId, 'one link per tenant');
    assert.equal((await page.credentials()).length, 2);
    const listA = await call('/fetch/passkeys', { relay_user_linked_id: a.linkId });
    const listB = await call('/fetch/passkeys', { relay_user_linked_id: b.linkId }, other);
    assert.deepEqual(
      listA.body.data.passkeys.map((p: any) => p.credential_id),
      [a.credentialId],
    );
    assert.deepEqual(
      listB.body.data.passkeys.map((p: any) => p.credential_id),
      [b.credentialId],
    );
    // A's revoke does not touch B's credential; each signs in only at its own tenant.
    assert.equal((await call('/revoke/passkey', { relay_user_linked_id: a.linkId, credential_id: a.credentialId })).status, 200);
    const atB = await verifyAssertion(
      relay.baseUrl,
      other,
      origin,
      await assertion(relay.baseUrl, other, page, { origin, linkId: b.linkId }),
    );
    assert.equal(atB.status, 200, JSON.stringify(atB.body));
    assert.equal(atB.body.data.credential_id, b.credentialId);
  });

  it('a passkey of another user of the same tenant is 404 when the options named a user', async () => {
    const pageA = await open(creds);
    const pageB = await open(creds);
    const a = await registerPasskey(relay.baseUrl, creds, pageA, { origin });
    const b = await registerPasskey(relay.baseUrl, creds, pageB, { origin });
    // B signs in usernameless and the backend claims the sign-in is A's: not one of A's passkeys.
    const bSigned = await assertion(relay.baseUrl, creds, pageB, { origin });
    assert.equal(bSigned.id, b.credentialId);
    expectError(await verifyAssertion(relay.baseUrl, creds, origin, bSigned, { relay_user_linked_id: a.linkId }), 404, 'NOT_FOUND');
  });

  it('409 and reported when the signature counter goes backwards (a cloned authenticator)', async () => {
    // The user has a paired device, so the report reaches it as a security alert.
    const device = await pairDevice(relay.baseUrl, creds, `ush_counter_${Date.now()}`);
    const backendUserId = seedPairingBody('x').backend_user_id;
    const page = await open(creds);
    const { linkId, credentialId } = await registerPasskey(relay.baseUrl, creds, page, { origin, backendUserId, name: 'Cloned key' });
    assert.equal(linkId, device.state.pairing?.relay_user_linked_id, 'the passkey joined the pairing user');
    const ok = await verifyAssertion(relay.baseUrl, creds, origin, await assertion(relay.baseUrl, creds, page, { origin, linkId }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const [cred] = await page.credentials();
    assert.ok(cred && cred.signCount >= 2);
    // A copy of the key with an older counter signs the next assertion: properly signed, counter not ahead.
    await page.setSignCount(credentialId, 0);
    const cloned = await assertion(relay.baseUrl, creds, page, { origin, linkId });
    expectError(await verifyAssertion(relay.baseUrl, creds, origin, cloned), 409, 'CONFLICT', /counter of this passkey went backwards/);
    // Reported: a signed callback to the tenant, an alert on the user's device.
    const cb = await eventually(async () => receiver.received.find((c) => c.body.event_type === 'passkey.counter_regression'));
    assert.equal(cb.path, '/relay-callbacks/passkey');
    assert.ok(cb.signatureValid, 'callback signed with the tenant secret');
    assert.equal(cb.body.data.credential_id, credentialId);
    assert.equal(cb.body.data.backend_user_id, backendUserId);
    assert.ok(cb.body.data.stored_counter >= 2 && cb.body.data.presented_counter === 1, JSON.stringify(cb.body.data));
    const alert = await eventually(async () =>
      (await device.poll()).body.data.requests.find((r: any) => r.content?.alert_type === 'passkey_counter_regression'),
    );
    assert.match(alert.content.body, /Cloned key/);
    // Once the authenticator is ahead again (a fresh count above the stored one), it signs in.
    await page.setSignCount(credentialId, 100);
    const again = await verifyAssertion(relay.baseUrl, creds, origin, await assertion(relay.baseUrl, creds, page, { origin, linkId }));
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });

  it('the counter check is atomic: assertions presenting one counter at once sign in once, the others get 409', async () => {
    const page = await open(creds);
    const { linkId, credentialId } = await registerPasskey(relay.baseUrl, creds, page, { origin, name: 'Raced key' });
    // Four properly signed assertions with the same counter (a cloned key used four times at once).
    const [cred] = await page.credentials();
    assert.ok(cred);
    const base = cred.signCount + 10;
    const raced: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      await page.setSignCount(credentialId, base);
      raced.push(await assertion(relay.baseUrl, creds, page, { origin, linkId }));
    }
    const answers = await Promise.all(raced.map((r) => verifyAssertion(relay.baseUrl, creds, origin, r)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409], JSON.stringify(answers.map((a) => a.body.message)));
    for (const a of answers.filter((x) => x.status === 409)) expectError(a, 409, 'CONFLICT', /counter of this passkey went backwards/);
  });

  it('user verification is required by default; a tenant can make it preferred', async () => {
    const tenant = await passkeyTenant(relay.baseUrl, [origin], { webauthn_user_verification: 'preferred' });
    const page = await open(tenant, origin, { userVerification: false });
    const opts = await call('/register/options', { backend_user_id: 'u-uv', username: 'uv', browser_origin: origin }, tenant);
    assert.equal(opts.body.data.options.authenticatorSelection.userVerification, 'preferred');
    const withoutUv = await page.create(opts.body.data.options);
    const opts2 = await call('/register/options', { backend_user_id: 'u-uv2', username: 'uv2', browser_origin: origin }, tenant);
    const withoutUv2 = await page.create(opts2.body.data.options);
    // Preferred: a registration without user verification is accepted.
    const accepted = await call('/register/verify', { browser_origin: origin, response: withoutUv }, tenant);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    // Required (the default): the same kind of response is refused, with the reason.
    await updateTenant(relay.baseUrl, tenant, { webauthn_user_verification: 'required' });
    const refused = await call('/register/verify', { browser_origin: origin, response: withoutUv2 }, tenant);
    expectError(refused, 401, 'INVALID_TOKEN');
    assert.match(refused.body.error.details.join(' '), /user verification was required/i);
    const def = await call('/register/options', { backend_user_id: 'u-uv3', username: 'uv3', browser_origin: origin });
    assert.equal(def.body.data.options.authenticatorSelection.userVerification, 'required');
  });

  it('403 FORBIDDEN while passkeys are off (passkeys_enabled false, no RP id, no origins); the list and revoke still work', async () => {
    const page = await open(creds);
    const tenant = await passkeyTenant(relay.baseUrl, [origin]);
    const { linkId, credentialId, response } = await registerPasskey(relay.baseUrl, tenant, page, { origin });
    const reg = { relay_user_linked_id: linkId, username: 'jane', browser_origin: origin };
    await updateTenant(relay.baseUrl, tenant, { passkeys_enabled: false });
    expectError(await call('/register/options', reg, tenant), 403, 'FORBIDDEN', /turned off/);
    expectError(await call('/authenticate/options', { browser_origin: origin }, tenant), 403, 'FORBIDDEN');
    expectError(await call('/register/verify', { browser_origin: origin, response }, tenant), 403, 'FORBIDDEN');
    await updateTenant(relay.baseUrl, tenant, { passkeys_enabled: true, webauthn_origins: [] });
    expectError(await call('/authenticate/options', { browser_origin: origin }, tenant), 403, 'FORBIDDEN', /webauthn_origins is empty/);
    await updateTenant(relay.baseUrl, tenant, { webauthn_origins: [origin], webauthn_rp_id: null });
    expectError(await call('/authenticate/options', { browser_origin: origin }, tenant), 403, 'FORBIDDEN', /set webauthn_rp_id/);
    // Managing existing passkeys does not depend on the RP settings.
    assert.equal((await call('/fetch/passkeys', { relay_user_linked_id: linkId }, tenant)).status, 200);
    assert.equal((await call('/revoke/passkey', { relay_user_linked_id: linkId, credential_id: credentialId }, tenant)).status, 200);
    // A tenant without any passkey setting (the default) is off too.
    const plain = await passkeyTenant(relay.baseUrl, [], { webauthn_rp_id: null });
    expectError(await call('/authenticate/options', { browser_origin: origin }, plain), 403, 'FORBIDDEN');
  });

  it('422 for malformed bodies, listing the fields; 404/409 for unknown users and users without passkeys', async () => {
    const both = await call('/register/options', {
      relay_user_linked_id: '0'.repeat(24),
      backend_user_id: 'u',
      username: 'x',
      browser_origin: origin,
    });
    expectError(both, 422, 'VALIDATION_FAILED');
    assert.ok(
      both.body.error.details.some((d: string) => d.startsWith('relay_user_linked_id:')),
      JSON.stringify(both.body),
    );
    const bad = await call('/authenticate/verify', { browser_origin: origin, response: { id: 'not base64url!', type: 'public-key' } });
    expectError(bad, 422, 'VALIDATION_FAILED');
    assert.ok(
      bad.body.error.details.some((d: string) => d.startsWith('response.id:')),
      JSON.stringify(bad.body),
    );
    assert.ok(
      bad.body.error.details.some((d: string) => d.startsWith('response.response:')),
      JSON.stringify(bad.body),
    );
    const undecodable = await call('/authenticate/verify', {
      browser_origin: origin,
      response: {
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
      },
    });
    expectError(undecodable, 422, 'VALIDATION_FAILED');
    expectError(
      await call('/register/options', { relay_user_linked_id: '0'.repeat(24), username: 'x', browser_origin: origin }),
      404,
      'NOT_FOUND',
    );
    const fresh = await call('/register/options', {
      backend_user_id: `u-${randomBytes(4).toString('hex')}`,
      username: 'x',
      browser_origin: origin,
    });
    expectError(
      await call('/authenticate/options', { browser_origin: origin, relay_user_linked_id: fresh.body.data.relay_user_linked_id }),
      409,
      'CONFLICT',
      /no active passkey/,
    );
    expectError(await call('/authenticate/options', { browser_origin: origin, backend_user_id: 'nobody-here' }), 404, 'NOT_FOUND');
  });

  // ---- The HMAC suite on the seven routes (tenants set up for passkeys; state-dependent answers once signed).
  const ORIGIN = 'http://localhost:3000';
  const tenantSettings = { webauthn_rp_id: 'localhost', webauthn_origins: [ORIGIN] };
  const unknownChallenge = (type: string) =>
    Buffer.from(JSON.stringify({ type, challenge: randomBytes(32).toString('base64url'), origin: ORIGIN })).toString('base64url');
  const suiteCtx = () => ({ baseUrl: relay.baseUrl, secondBaseUrl: shortLived.url });
  const noLink = '0'.repeat(24);
  const credentialId = 'AqArrer7wy7kjNSvTxX9dC7VWnHUwIzEoAwySlPeRus';
  signedRouteSecurity('register/options', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/register/options',
    body: () => ({ backend_user_id: `u-${randomBytes(4).toString('hex')}`, username: 'jane', browser_origin: ORIGIN }),
    okStatus: 200,
    tenantSettings,
  });
  signedRouteSecurity('register/verify (unknown challenge → 410 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/register/verify',
    body: () => ({
      browser_origin: ORIGIN,
      response: {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: { clientDataJSON: unknownChallenge('webauthn.create'), attestationObject: 'AAAA' },
      },
    }),
    okStatus: 410,
    tenantSettings,
  });
  signedRouteSecurity('authenticate/options (usernameless)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/authenticate/options',
    body: () => ({ browser_origin: ORIGIN }),
    okStatus: 200,
    tenantSettings,
  });
  signedRouteSecurity('authenticate/verify (unknown challenge → 410 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/authenticate/verify',
    body: () => ({
      browser_origin: ORIGIN,
      response: {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: { clientDataJSON: unknownChallenge('webauthn.get'), authenticatorData: 'AAAA', signature: 'AAAA' },
      },
    }),
    okStatus: 410,
    tenantSettings,
  });
  signedRouteSecurity('fetch/passkeys (unknown user → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/fetch/passkeys',
    body: () => ({ relay_user_linked_id: noLink }),
    okStatus: 404,
  });
  signedRouteSecurity('rename/passkey (unknown passkey → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/rename/passkey',
    body: () => ({ relay_user_linked_id: noLink, credential_id: credentialId, name: 'x' }),
    okStatus: 404,
  });
  signedRouteSecurity('revoke/passkey (unknown passkey → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/webauthn/revoke/passkey',
    body: () => ({ relay_user_linked_id: noLink, credential_id: credentialId }),
    okStatus: 404,
  });
});
