/** The ops pages as a person uses them: in a real (headless) Chromium. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { startRelay, type Relay } from '../support/harness.js';
import { provision, signed } from '../support/client.js';

const SHOTS = new URL('../../.data/screenshots/', import.meta.url).pathname;

describe('platform: ops pages in a browser', function () {
  this.timeout(60_000);
  let relay: Relay;
  let browser: Browser;
  before(async () => {
    relay = await startRelay('browser');
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await relay.stop();
  });

  it('the queue dashboard asks for the admin key, then shows every queue and a waiting job', async () => {
    const creds = await provision(relay.baseUrl, { callback_url_base: 'http://127.0.0.1:9' });
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 202); // no worker: it waits

    const denied = await browser.newContext();
    const page0 = await denied.newPage();
    // Without credentials the browser meets the Basic challenge and gives up (or shows the 401).
    const r0 = await page0.goto(`${relay.baseUrl}/admin/queues`).catch((err: Error) => err);
    if (r0 instanceof Error) assert.match(r0.message, /ERR_INVALID_AUTH_CREDENTIALS/);
    else assert.equal(r0?.status(), 401);
    await denied.close();

    const ctx = await browser.newContext({ httpCredentials: { username: 'ops', password: relay.env.ADMIN_API_KEY ?? '' } });
    const page = await ctx.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${relay.baseUrl}/admin/queues`);
    await page.getByText('webhook-delivery').first().waitFor({ timeout: 20_000 });
    // Everything the page loads comes from the relay itself (bull-board would load fonts from an outside host).
    const outside = requested.filter((u) => !u.startsWith(relay.baseUrl) && !u.startsWith('data:'));
    assert.deepEqual(outside, [], `requests to other hosts: ${outside.join(', ')}`);
    for (const q of ['maintenance']) await page.getByText(q).first().waitFor();
    await page.screenshot({ path: `${SHOTS}admin-queues.png`, fullPage: true });
    await page.goto(`${relay.baseUrl}/admin/queues/queue/webhook-delivery?status=waiting`);
    await page.getByText('webhook.deliver').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${SHOTS}admin-queue-waiting.png`, fullPage: true });
    await ctx.close();
  });

  it('the API reference page renders every operation from the OpenAPI document', async () => {
    const page = await browser.newPage();
    await page.goto(`${relay.baseUrl}/docs`);
    await page.getByText('/api/v1/provision/tenant').first().waitFor();
    const text = await page.locator('#ops').innerText();
    for (const path of ['/api/v1/relay/send/test-callback', '/api/v1/replay/dead-letters', '/api/v1/fetch/tenants'])
      assert.ok(text.includes(path), path);
    await page.screenshot({ path: `${SHOTS}docs.png`, fullPage: true });
    await page.close();
  });
});
