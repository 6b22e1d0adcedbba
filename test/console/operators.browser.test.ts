/**
 * The console's operators card in Chromium (issue 20, High 3): an owner adds an operator, edits its
 * routing keys, disables it (its token is refused at once) and enables it again, against the live
 * relay; no CSP violation, no serious accessibility problem. Screenshots in .data/artifacts/console/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { launchBrowser } from '../support/browser.js';
import { asOperator } from '../support/chat-client.js';
import { signed } from '../support/client.js';
import { RECORD_CSP, axeCheck, visible } from '../support/web.js';
import { inWs, newEmail, signUp, startConsoleWorld, type ConsoleWorld } from './support.js';

const ARTIFACTS = new URL('../../.data/artifacts/console/', import.meta.url).pathname;
const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

describe('the console in the browser: operators of a tenant', function () {
  this.timeout(180_000);
  let w: ConsoleWorld;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb({ quiet: true });
    w = await startConsoleWorld('console_operators_browser');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  it('add, edit routing keys, disable (the token stops) and enable an operator', async () => {
    const owner = await signUp(w);
    const t = await w.api('POST', inWs('/provision/tenant', owner.workspaceId), { token: owner.token, body: { tenant_name: 'Acme EU' } });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const creds = { tenantId: t.body.data.tenant_id as string, secret: t.body.data.tenant_secret as string, widgetKey: '' };

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await ctx.addInitScript({ content: RECORD_CSP });
    const stored = JSON.stringify({ token: owner.token, workspace: owner.workspaceId, locale: 'en' });
    await ctx.addInitScript({ content: `localStorage.setItem('bloonio:console:v1', ${JSON.stringify(stored)})` });
    const page = await ctx.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${w.relay.baseUrl}/console#/tenants/${creds.tenantId}`);
    await visible(page.locator('[data-test=tenant-name]', { hasText: 'Acme EU' }));

    const card = page.locator('[data-test=operators-card]');
    const add = card.locator('[data-test=add-operator]');
    const mail = newEmail('ana');
    await add.getByLabel('Email address').fill(mail);
    await add.getByLabel('Name').fill('Ana');
    await add.getByLabel('Routing keys').fill('billing');
    await add.getByRole('button', { name: 'Add an operator' }).click();
    const row = card.locator(`[data-test=operator][data-email="${mail}"]`);
    await visible(row.getByText('billing'));
    await shot(page, 'operators-01-added');

    const id = (await w.api('GET', inWs('/fetch/operators', owner.workspaceId, `&tenant_id=${creds.tenantId}`), { token: owner.token }))
      .body.data.operators[0].operator_id as string;
    const token = (await signed(w.relay.baseUrl, creds, 'POST', '/relay/mint/operator-token', { operator_id: id })).body.data
      .operator_token as string;
    const queue = () => asOperator(w.relay.baseUrl, token, 'GET', '/operator/fetch/queue').then((r) => r.status);
    assert.equal(await queue(), 200);

    await row.getByRole('button', { name: 'Edit' }).click();
    await row.getByLabel('Routing keys').fill('billing\nsales');
    await row.getByRole('button', { name: 'Save' }).click();
    await visible(card.locator(`[data-test=operator][data-email="${mail}"]`).getByText('billing, sales'));
    assert.equal(await queue(), 401, 'a routing-key change revokes the token');

    const token2 = (await signed(w.relay.baseUrl, creds, 'POST', '/relay/mint/operator-token', { operator_id: id })).body.data
      .operator_token as string;
    await card.locator(`[data-test=operator][data-email="${mail}"]`).getByRole('button', { name: 'Disable' }).click();
    await visible(card.locator(`[data-test=operator][data-email="${mail}"]`).getByText('disabled'));
    assert.equal((await asOperator(w.relay.baseUrl, token2, 'GET', '/operator/fetch/queue')).status, 401);
    await shot(page, 'operators-02-disabled');
    assert.deepEqual(await axeCheck(page, 'console operators card'), [], 'no serious or critical accessibility problem');

    await card.locator(`[data-test=operator][data-email="${mail}"]`).getByRole('button', { name: 'Enable' }).click();
    await visible(card.locator(`[data-test=operator][data-email="${mail}"]`).getByRole('button', { name: 'Disable' }));
    assert.equal((await signed(w.relay.baseUrl, creds, 'POST', '/relay/mint/operator-token', { operator_id: id })).status, 201);
    assert.deepEqual(await page.evaluate('window.__csp'), [], 'no CSP violation');
    await ctx.close();
  });
});
