/**
 * Local development without SMTP (RELAY_DEV_PAGES=true, no SMTP_URL): the console's answers carry the
 * code (`dev_otp`) and the invitation link (`dev_invite_url`) so a developer can sign up with
 * `npm start` alone; the worker sends nothing. (With SMTP configured, or outside development, they
 * never appear: test/console/accounts.test.ts.)
 */
import assert from 'node:assert/strict';
import { call } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';

describe('console in local development without SMTP: dev_otp and dev_invite_url', function () {
  this.timeout(30_000);
  let relay: Relay;
  before(async () => {
    relay = await startRelay('console_dev', { RELAY_DEV_PAGES: 'true' });
    await relay.startWorker();
  });
  after(async () => {
    await relay?.stop();
  });
  const post = (path: string, body: unknown, token?: string) =>
    call(relay.baseUrl, 'POST', `/api/v1/console${path}`, {
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('signs up, signs in and invites with the codes and link from the answers', async () => {
    const email = `dev-${Date.now()}@example.com`;
    const r = await post('/register', { email, password: 'a local passphrase', display_name: 'Dev', organization_name: 'Local' });
    assert.equal(r.status, 202);
    assert.match(r.body.data.dev_otp, /^\d{6}$/);
    const v = await post('/verify/registration', { email, otp: r.body.data.dev_otp });
    assert.equal(v.status, 201);
    const l = await post('/login', { email, password: 'a local passphrase' });
    const g = await post('/get/login-otp', { challenge_token: l.body.data.challenge_token, factor: 'email' });
    assert.match(g.body.data.dev_otp, /^\d{6}$/);
    const s = await post('/verify/login-otp', { challenge_token: l.body.data.challenge_token, otp: g.body.data.dev_otp });
    assert.equal(s.status, 201);
    const ws = s.body.data.workspaces[0].workspace_id;
    const inv = await post(`/create/invitation?workspace_id=${ws}`, { email: 'teammate@example.com' }, s.body.data.console_token);
    assert.equal(inv.status, 201);
    assert.match(inv.body.data.dev_invite_url, new RegExp(`^${relay.baseUrl}/console#invite=ivt_`));
  });
});
