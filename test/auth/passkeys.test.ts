/**
 * Passkeys end to end, as a user meets them: the relay's demo page (a tenant's front end, with the
 * demo backend signing its calls) in headless Chromium with a CDP virtual authenticator. Register,
 * sign in with an allow list and usernameless, rename, revoke, and the revoked passkey refused;
 * the tenant's signed callback and the user's paired device see the new passkey.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../../api/app.js';
import { TenantStore } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { apiRedis } from '../../platform/redis.js';
import { Producer } from '../../queues/producer.js';
import { launchBrowser } from '../support/browser.js';
import { call, signed, type TenantCreds } from '../support/client.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { pairDevice, seedPairingBody, startReceiver } from './support.js';
import { BrowserAuthenticator, localOrigin, passkeyTenant } from './passkeys-support.js';

const SHOTS = new URL('../../.data/screenshots/', import.meta.url).pathname;

describe('auth relay: passkeys in a real browser (demo page, virtual authenticator)', function () {
  this.timeout(60_000);
  let relay: Relay;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let origin: string;
  let creds: TenantCreds;
  const opened: BrowserAuthenticator[] = [];

  before(async () => {
    relay = await startRelay('passkeys_browser', { RELAY_DEV_PAGES: 'true' });
    await relay.startWorker();
    browser = await launchBrowser();
    receiver = await startReceiver();
    origin = localOrigin(relay.baseUrl);
    creds = await passkeyTenant(relay.baseUrl, [origin], { callback_url_base: receiver.url, branding_display_name: 'Example Bank' });
    receiver.setSecret(creds.secret);
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    for (const a of opened) await a.close().catch(() => undefined);
    await browser?.close();
    await receiver?.close();
    await relay?.stop();
  });

  /** Another instance of the API (same stores) with the given configuration. */
  async function serve(config: Config, host: string): Promise<{ url: string; close: () => Promise<void> }> {
    const redis = apiRedis(config.redisUrl);
    const producer = new Producer(config, redis);
    const tenants = new TenantStore(redis, config.secretsMasterKey, config.queuePrefix);
    const server = http.createServer(buildApp({ config, logger: createLogger('silent', 'test'), redis, producer, tenants }).callback());
    await new Promise<void>((r) => server.listen(0, host, r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await producer.close();
        await redis.quit();
      },
    };
  }

  const openDemo = async () => {
    const a = await BrowserAuthenticator.open(browser, `${origin}/dev/passkeys?tenant_id=${creds.tenantId}`);
    opened.push(a);
    return a;
  };
  /** Clicks, then waits for the page's status line to settle; returns its state and text. */
  const act = async (page: Page, selector: string): Promise<{ state: string; text: string; answer: any }> => {
    await page.evaluate(() => {
      const s = (globalThis as any).document.getElementById('status');
      s.dataset.state = 'clicked';
    });
    await page.click(selector);
    await page.waitForSelector('#status[data-state=ok], #status[data-state=error]', { timeout: 20_000 });
    const text = await page.locator('#status').innerText();
    const state = (await page.locator('#status').getAttribute('data-state')) ?? '';
    const out = await page.locator('#out').innerText();
    return { state, text, answer: out ? JSON.parse(out) : null };
  };
  const rows = async (page: Page) => {
    await page.waitForSelector('#passkeys tr');
    return page
      .locator('#passkeys tr')
      .evaluateAll((trs: any[]) =>
        trs.map((tr) => ({ status: tr.dataset.status, credentialId: tr.dataset.credentialId, name: tr.cells[0].textContent })),
      );
  };

  it('is served only with RELAY_DEV_PAGES, and only to loopback clients', async function () {
    assert.equal((await call(relay.baseUrl, 'GET', '/dev/passkeys')).status, 200);
    // The same code without the setting (the production default): no page, no demo backend.
    const off = await serve({ ...relay.config, devPages: false }, '127.0.0.1');
    try {
      assert.equal((await call(off.url, 'GET', '/dev/passkeys')).status, 404);
      const backend = await call(off.url, 'POST', '/dev/passkeys/backend/fetch-passkeys', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tenant_id: creds.tenantId, body: {} }),
      });
      assert.equal(backend.status, 404);
    } finally {
      await off.close();
    }
    // With it, a client reaching the relay on a non-loopback address gets nothing either.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    if (!lan) return this.skip(); // no such interface on this machine
    const on = await serve(relay.config, '0.0.0.0');
    try {
      const port = new URL(on.url).port;
      assert.equal((await call(`http://${lan.address}:${port}`, 'GET', '/dev/passkeys')).status, 404);
      assert.equal((await call(`http://127.0.0.1:${port}`, 'GET', '/dev/passkeys')).status, 200);
    } finally {
      await on.close();
    }
  });

  it('register, sign in (allow list and usernameless), rename, revoke; the revoked passkey is refused', async () => {
    // The user already paired a device with this tenant: the new passkey raises an alert on it.
    const device = await pairDevice(relay.baseUrl, creds, `ush_pk_${Date.now()}`);
    const backendUserId = seedPairingBody('x').backend_user_id;
    const demo = await openDemo();
    const page = demo.page;
    await page.fill('#backend-user', backendUserId);
    await page.fill('#passkey-name', 'My laptop');

    // 1. Register.
    const reg = await act(page, '#register');
    assert.equal(reg.state, 'ok', reg.text);
    assert.equal(reg.text, `Registered passkey "My laptop" for ${backendUserId}.`);
    const credentialId = reg.answer.credential_id as string;
    const linkId = reg.answer.relay_user_linked_id as string;
    assert.equal(linkId, device.state.pairing?.relay_user_linked_id, 'joined the link made at pairing');
    assert.equal(reg.answer.alerted_device_count, 1);
    assert.deepEqual(await rows(page), [{ status: 'active', credentialId, name: 'My laptop' }]);
    // The authenticator now holds a discoverable credential for RP id localhost, with the user's handle.
    const [cred] = await demo.credentials();
    assert.ok(cred?.isResidentCredential);
    assert.equal(cred?.rpId, 'localhost');
    assert.equal(Buffer.from(cred?.userHandle ?? '', 'base64').toString('hex'), linkId);
    // The tenant's signed callback, and the alert on the paired device.
    const cb = await eventually(async () => receiver.received.find((c) => c.body.event_type === 'passkey.registered'));
    assert.equal(cb.path, '/relay-callbacks/passkey');
    assert.ok(cb.signatureValid, 'callback signed with the tenant secret');
    assert.equal(cb.headers['x-bloonio-event-type'], 'passkey.registered');
    assert.deepEqual(
      [cb.body.data.credential_id, cb.body.data.relay_user_linked_id, cb.body.data.backend_user_id, cb.body.data.name],
      [credentialId, linkId, backendUserId, 'My laptop'],
    );
    const alert = await eventually(async () =>
      (await device.poll()).body.data.requests.find((r: any) => r.content?.alert_type === 'new_passkey'),
    );
    assert.equal(alert.kind, 'security-alert');
    assert.match(alert.content.body, /A passkey \("My laptop"\) was added to your Example Bank account/);

    // 2. The same authenticator again: excluded, the browser refuses to make a second credential.
    const twice = await act(page, '#register');
    assert.equal(twice.state, 'error');
    assert.match(twice.text, /^Browser: InvalidStateError/);
    assert.equal((await demo.credentials()).length, 1);

    // 3. Sign in with an allow list (the user is known), then usernameless.
    const withUser = await act(page, '#signin-user');
    assert.equal(withUser.state, 'ok', withUser.text);
    assert.equal(withUser.text, `Signed in as ${backendUserId} with "My laptop" (user verified).`);
    assert.deepEqual(withUser.answer, {
      ...withUser.answer,
      backend_user_id: backendUserId,
      relay_user_linked_id: linkId,
      credential_id: credentialId,
      user_verified: true,
      backed_up: false,
      device_type: 'singleDevice',
    });
    assert.deepEqual(Object.keys(withUser.answer).sort(), [
      'authenticated_at',
      'backed_up',
      'backend_user_id',
      'credential_id',
      'device_type',
      'name',
      'relay_user_linked_id',
      'user_verified',
    ]);
    await page.fill('#link', ''); // forget the user: the passkey itself says who it is
    const usernameless = await act(page, '#signin-usernameless');
    assert.equal(usernameless.state, 'ok', usernameless.text);
    assert.equal(usernameless.answer.relay_user_linked_id, linkId);
    assert.equal(usernameless.answer.backend_user_id, backendUserId);
    assert.equal(await page.inputValue('#link'), linkId);
    await page.screenshot({ path: `${SHOTS}passkeys-demo.png`, fullPage: true });

    // 4. A second passkey on another device of the same user.
    const phone = await openDemo();
    await phone.page.fill('#link', linkId);
    await phone.page.fill('#passkey-name', 'My phone');
    const second = await act(phone.page, '#register');
    assert.equal(second.state, 'ok', second.text);
    const phoneCredential = second.answer.credential_id as string;
    assert.deepEqual(
      (await rows(phone.page)).map((r) => [r.name, r.status]),
      [
        ['My laptop', 'active'],
        ['My phone', 'active'],
      ],
    );

    // 5. Rename the laptop's passkey from the list.
    assert.equal((await act(page, '#list')).text, 'List refreshed.');
    await page.fill(`#passkeys tr[data-credential-id="${credentialId}"] .rename-input`, 'Work laptop');
    const renamed = await act(page, `#passkeys tr[data-credential-id="${credentialId}"] button.rename`);
    assert.equal(renamed.text, 'Renamed to "Work laptop".');
    const listed = await signed(relay.baseUrl, creds, 'POST', '/relay/webauthn/fetch/passkeys', { relay_user_linked_id: linkId });
    assert.deepEqual(
      listed.body.data.passkeys.map((p: any) => [p.credential_id, p.name, p.status, Boolean(p.last_used_at)]),
      [
        [credentialId, 'Work laptop', 'active', true],
        [phoneCredential, 'My phone', 'active', false],
      ],
    );
    assert.ok(!JSON.stringify(listed.body).includes('public_key'), 'never the public key');

    // 6. Revoke it: listed as revoked, and it never signs in again.
    const revoked = await act(page, `#passkeys tr[data-credential-id="${credentialId}"] button.revoke`);
    assert.equal(revoked.text, 'Revoked "Work laptop".');
    await page.waitForSelector(`#passkeys tr[data-credential-id="${credentialId}"][data-status=revoked]`);
    const cbRevoked = await eventually(async () => receiver.received.find((c) => c.body.event_type === 'passkey.revoked'));
    assert.equal(cbRevoked.body.data.credential_id, credentialId);
    // The laptop still holds the credential and offers it; the relay refuses it.
    const refused = await act(page, '#signin-usernameless');
    assert.equal(refused.state, 'error');
    assert.equal(refused.text, 'Refused: 403 FORBIDDEN: This passkey has been revoked.');
    // With the allow list, only the phone's passkey is asked for: the laptop has none of them.
    const opts = await signed(relay.baseUrl, creds, 'POST', '/relay/webauthn/authenticate/options', {
      browser_origin: origin,
      relay_user_linked_id: linkId,
    });
    assert.deepEqual(
      opts.body.data.options.allowCredentials.map((c: any) => c.id),
      [phoneCredential],
    );
    // The phone still signs in.
    const phoneIn = await act(phone.page, '#signin-user');
    assert.equal(phoneIn.state, 'ok', phoneIn.text);
    assert.equal(phoneIn.answer.credential_id, phoneCredential);
    await page.screenshot({ path: `${SHOTS}passkeys-demo-revoked.png`, fullPage: true });
  });
});
