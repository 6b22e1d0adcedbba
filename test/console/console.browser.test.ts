/**
 * The console in Chromium, the whole journey of issue 15, against the live relay (API and worker,
 * real Redis and FerretDB) and a local SMTP server speaking real SMTP whose mailbox the test reads:
 * register → the code from the email → verify → enrol TOTP (the code computed from the secret the
 * page shows) → sign out → sign in with password + TOTP → create a tenant and see its secret once →
 * a signed call with that secret → invite a member by email → the member accepts from the emailed
 * link (a password, then the emailed code), sees the workspace with the member role, and is refused
 * the owner's actions → an hour later, rotating the secret asks for the password (step-up). Screenshots of
 * each step are kept in .data/artifacts/console/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { totpNow } from '../../platform/totp.js';
import { buildWeb } from '../../scripts/build-web.js';
import { FakeSmtp } from '../fakes/smtp-server.js';
import { Receiver } from '../fakes/receiver.js';
import { launchBrowser } from '../support/browser.js';
import { signed } from '../support/client.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { RECORD_CSP, axeCheck, visible } from '../support/web.js';

const ARTIFACTS = new URL('../../.data/artifacts/console/', import.meta.url).pathname;
const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

describe('the console in the browser: sign-up to a member refused owner actions', function () {
  this.timeout(180_000);
  let relay: Relay;
  let smtp: FakeSmtp;
  let receiver: Receiver;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb({ quiet: true });
    smtp = await new FakeSmtp().start();
    receiver = await new Receiver().start();
    relay = await startRelay('console_browser', { SMTP_URL: smtp.url, MAIL_FROM: 'Bloonio <console@bloonio.test>' });
    await relay.startWorker();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await relay?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await ctx.addInitScript({ content: RECORD_CSP });
    const page = await ctx.newPage();
    page.on('dialog', (d) => void d.accept());
    page.on('pageerror', (e) => console.log('[page] error', e.message));
    return page;
  }
  const csp = async (page: Page) => (await page.evaluate('window.__csp')) as string[];

  it('register, verify, TOTP, sign in again, a tenant with its secret once and a signed call, an invited member with the member role', async () => {
    const owner = { email: `owner-${Date.now()}@example.com`, password: 'correct horse battery staple' };
    const page = await newPage();
    const res = await page.goto(`${relay.baseUrl}/console`);
    const header = res?.headers()['content-security-policy'] ?? '';
    assert.match(header, /script-src 'self'/);
    assert.match(header, /require-trusted-types-for 'script'/);
    await visible(page.getByRole('heading', { name: 'Se connecter' }));
    await shot(page, '01-sign-in-fr');
    assert.deepEqual(await axeCheck(page, 'console sign-in'), [], 'no serious or critical accessibility problem');

    // English from here on (the choice is kept).
    await page.locator('[data-test=language]').selectOption('en');
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Olivia Owner');
    await page.getByLabel('Email address').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByLabel('Organisation').fill('Acme Shops');
    await shot(page, '02-sign-up');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await visible(page.getByRole('heading', { name: 'Verify your address' }));
    const code = await smtp.code(owner.email);
    await page.locator('[data-test=verify-code]').fill(code);
    await shot(page, '03-verify-code');
    await page.getByRole('button', { name: 'Verify' }).click();
    await visible(page.getByRole('heading', { name: 'Tenants' }));
    assert.match(await page.locator('#workspace-switcher').innerText(), /Acme Shops \(owner\)/);
    await shot(page, '04-signed-in');

    // TOTP: the key is shown once (text and QR); the first code turns it on and shows the recovery codes.
    await page.getByRole('link', { name: 'Account security' }).click();
    await page.locator('[data-test=totp-setup]').click();
    await visible(page.locator('[data-test=totp-qr]'));
    const secret = (await page.locator('[data-test=totp-secret]').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.ok(
      ((await page.locator('[data-test=totp-qr]').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) as number) >
        0,
      'the QR code renders',
    );
    await shot(page, '05-totp-enrol');
    const enrolledAt = Date.now(); // the sign-in code below is the next step's, derived from this moment
    await page.locator('[data-test=totp-code]').fill(totpNow(secret, enrolledAt));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await visible(page.locator('[data-test=recovery-codes]'));
    assert.equal(await page.locator('[data-test=recovery-codes] li').count(), 10);
    await shot(page, '06-recovery-codes');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await visible(page.getByText(/^On\. 10 recovery code/));

    // Sign out, then sign in with the password and the app's code.
    await page.locator('[data-test=sign-out]').click();
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    await page.getByLabel('Email address').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByText('Enter the code from your authenticator app'));
    await page.locator('[data-test=mfa-code]').fill(totpNow(secret, enrolledAt + 30_000)); // the enrolment used its step
    await shot(page, '07-sign-in-totp');
    await page.getByRole('button', { name: 'Verify' }).click();
    await visible(page.getByRole('heading', { name: 'Tenants' }));

    // A tenant: its secret once, and a signed call made with it.
    await page.getByLabel('Tenant name').fill('Acme EU');
    await page.getByLabel('Callback base URL').fill(receiver.url);
    await page.getByLabel('Widget origins (one per line)').fill('https://shop.acme.example');
    await page.getByRole('button', { name: 'Create' }).click();
    await visible(page.locator('[data-test=secret-once]'));
    const tenantId = (await page.locator('[data-test=tenant-id]').innerText()).trim();
    const tenantSecret = (await page.locator('[data-test=tenant-secret]').innerText()).trim();
    const widgetKey = (await page.locator('[data-test=widget-key]').first().innerText()).trim();
    assert.match(tenantSecret, /^sk_/);
    await shot(page, '08-secret-once');
    const call = await signed(relay.baseUrl, { tenantId, secret: tenantSecret, widgetKey }, 'POST', '/relay/send/test-callback', {
      note: 'hello from the console',
    });
    assert.equal(call.status, 202, JSON.stringify(call.body));
    await eventually(async () => receiver.received.some((r) => r.body.includes('hello from the console')));
    assert.equal(await page.getByRole('button', { name: 'Continue' }).isDisabled(), true, 'not before the box is ticked');
    await page.getByLabel('I have saved the secret').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await visible(page.locator('[data-test=tenant-name]', { hasText: 'Acme EU' }));
    assert.equal(await page.getByText(tenantSecret).count(), 0, 'the secret is not shown again');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await visible(page.locator('[data-test=deliveries]').getByText('platform.test'));
    await shot(page, '09-tenant');
    assert.deepEqual(await axeCheck(page, 'console tenant page'), [], 'no serious or critical accessibility problem');

    // Invite a member by email.
    const member = { email: `member-${Date.now()}@example.com`, password: 'another fine passphrase' };
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByLabel('Email address').fill(member.email);
    await page.getByRole('button', { name: 'Invite' }).click();
    await visible(page.locator('[data-test=invitations]').getByText(member.email));
    await shot(page, '10-invited');
    const mail = await smtp.waitFor(member.email);
    const link = /(https?:\/\/\S+#invite=\S+)/.exec(mail.text)?.[1];
    assert.ok(link, `an invitation link in: ${mail.text}`);
    assert.ok(link.startsWith(`${relay.baseUrl}/console#invite=ivt_`));

    // The member opens the link in their own browser, creates the account and lands in the workspace as member.
    const mpage = await newPage();
    await mpage.goto(link);
    await visible(mpage.locator('[data-test=invitation-text]'));
    assert.equal(new URL(mpage.url()).hash, '', 'the token is taken out of the address bar');
    assert.match(await mpage.locator('[data-test=invitation-text]').innerText(), /Acme Shops/);
    await shot(mpage, '11-invitation');
    await mpage.getByLabel('Votre nom').fill('Max Member');
    await mpage.getByLabel('Mot de passe').fill(member.password);
    await mpage.getByRole('button', { name: 'Accepter l’invitation' }).click();
    // The link alone makes no account: the address is proven with an emailed code first.
    await visible(mpage.getByRole('heading', { name: 'Vérifiez votre adresse' }));
    await mpage.locator('[data-test=verify-code]').fill(await smtp.code(member.email, { count: 2 }));
    await mpage.getByRole('button', { name: 'Vérifier' }).click();
    await visible(mpage.getByRole('heading', { name: 'Tenants' }));
    assert.match(await mpage.locator('#workspace-switcher').innerText(), /Acme Shops \(membre\)/);
    await visible(mpage.getByRole('link', { name: 'Acme EU' }));
    await visible(mpage.getByText('Lecture seule'));
    assert.equal(await mpage.getByRole('button', { name: 'Créer' }).count(), 0, 'no tenant creation for a member');
    await shot(mpage, '12-member-tenants');
    await mpage.getByRole('link', { name: 'Membres' }).click();
    await visible(mpage.locator('[data-test=members]').getByText(owner.email));
    assert.equal(await mpage.getByRole('button', { name: 'Retirer' }).count(), 0);
    assert.equal(await mpage.getByRole('link', { name: 'Journal d’audit' }).count(), 0);
    await shot(mpage, '13-member-members');
    // The relay refuses the owner's actions to the member, whatever the page shows.
    const ws = (await page.evaluate("JSON.parse(localStorage.getItem('bloonio:console:v1') || '{}').workspace")) as string;
    const refused = (await mpage.evaluate(`(async () => {
      const token = JSON.parse(localStorage.getItem('bloonio:console:v1') || '{}').token;
      const post = (path, body) => fetch('/api/v1/console' + path + '?workspace_id=${ws}', {
        method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      }).then((r) => r.status);
      return [await post('/update/workspace', { name: 'Taken' }), await post('/provision/tenant', { tenant_name: 'Mine' }), await post('/create/invitation', { email: 'x@example.com' })];
    })()`)) as number[];
    assert.deepEqual(refused, [403, 403, 403]);

    // The owner sees it all in the audit log.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await visible(page.locator('[data-test=audit]').getByText('member.joined'));
    for (const action of ['tenant.created', 'invitation.created', 'workspace.created'])
      await visible(page.locator('[data-test=audit]').getByText(action));
    await shot(page, '14-audit-log');

    // Step-up: an hour after signing in, rotating the secret asks for the password again, then goes through.
    const token = (await page.evaluate("JSON.parse(localStorage.getItem('bloonio:console:v1') || '{}').token")) as string;
    const sid = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sid as string;
    const redis = new Redis(relay.config.redisUrl);
    try {
      const k = redisKey.consoleSession(relay.config.queuePrefix, sid);
      const rec = JSON.parse((await redis.get(k)) ?? '{}');
      await redis.set(k, JSON.stringify({ ...rec, auth_at: Date.now() - 3_600_000 }), 'KEEPTTL');
    } finally {
      redis.disconnect();
    }
    await page.getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('link', { name: 'Acme EU' }).click();
    await page.getByRole('button', { name: 'Rotate the secret' }).click();
    await visible(page.locator('[data-test=step-up]'));
    await page.locator('[data-test=step-up] input[name=password]').fill(owner.password);
    await shot(page, '15-step-up');
    await page.locator('[data-test=step-up]').getByRole('button', { name: 'Confirm' }).click();
    await visible(page.locator('[data-test=secret-once]'));
    const rotated = (await page.locator('[data-test=tenant-secret]').innerText()).trim();
    assert.match(rotated, /^sk_/);
    assert.notEqual(rotated, tenantSecret);
    assert.deepEqual(await csp(page), [], 'no CSP violation on the owner page');
    assert.deepEqual(await csp(mpage), [], 'no CSP violation on the member page');
  });
});
