/**
 * QR login (docs/contract.md §2.3): a browser origin asks, the relay signs the code, a paired device of the same
 * tenant checks the signature (the reference device, and its CLI), approves or denies; the backend
 * polls with its poll token and reads the approving user once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, provision, signed, signedHeaders, type TenantCreds } from '../support/client.js';
import { sleep, startRelay, type Relay } from '../support/harness.js';
import { newUserHash, pairDevice } from './support.js';

const ORIGIN = 'https://app.example.com';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('auth relay: QR login', function () {
  this.timeout(60_000);
  let relay: Relay;
  let creds: TenantCreds;
  before(async () => {
    relay = await startRelay('qr', { QR_LOGIN_TTL_SECONDS: '10' });
    creds = await provision(relay.baseUrl, {
      rate_limit_per_min: 10_000,
      qr_login_allowed_origins: [ORIGIN],
      branding_display_name: 'Example',
    });
  });
  after(async () => relay?.stop());

  const expectError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
  };
  const initiate = (c = creds, origin = ORIGIN) => signed(relay.baseUrl, c, 'POST', '/relay/qr-login/initiate', { browser_origin: origin });
  const pollWithoutToken = (sessionId: string) => signed(relay.baseUrl, creds, 'GET', `/relay/qr-login/poll?session_id=${sessionId}`);
  async function pollWith(sessionId: string, token: string, c = creds) {
    return call(relay.baseUrl, 'GET', `/api/v1/relay/qr-login/poll?session_id=${sessionId}`, {
      headers: { ...signedHeaders(c, ''), 'X-QR-Poll-Token': token },
    });
  }

  it('initiate → the device checks the signed code and approves → the poll reads the user once, then 410', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash(), { backendUserId: 'qr-user-1' });
    const s = await initiate();
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal(s.body.message, 'QR-login session created.');
    const { session_id, poll_token, qr_code_str, qr_payload } = s.body.data;
    assert.equal(qr_payload.origin, ORIGIN);
    assert.equal(qr_payload.tid, creds.tenantId);
    assert.equal((await pollWith(session_id, poll_token)).body.data.status, 'pending');

    const seen = await device.scan(qr_code_str);
    assert.ok(seen.ok, JSON.stringify(seen));
    assert.equal(seen.ok && seen.payload.tenant_name, 'Example', 'the device shows who asks');
    const r = await device.answerQr(qr_code_str, session_id, 'approve');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    expectError(await device.answerQr(qr_code_str, session_id, 'approve'), 409, 'ALREADY_RESOLVED');

    const approved = await pollWith(session_id, poll_token);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.data.status, 'approved');
    assert.equal(approved.body.data.backend_user_id, 'qr-user-1');
    assert.equal(approved.body.data.relay_user_linked_id, device.state.pairing?.relay_user_linked_id);
    expectError(await pollWith(session_id, poll_token), 410, 'GONE');
  });

  it('a wrong or missing poll token is 410; a denial is read once; the origin must be allowed (403); off without origins', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    const s = (await initiate()).body.data;
    expectError(await pollWith(s.session_id, `${s.poll_token}x`), 410, 'GONE');
    expectError(await pollWithoutToken(s.session_id), 410, 'GONE');
    expectError(await pollWith('short', s.poll_token), 422, 'VALIDATION_FAILED');
    await device.answerQr(s.qr_code_str, s.session_id, 'deny');
    assert.equal((await pollWith(s.session_id, s.poll_token)).body.data.status, 'denied');
    expectError(await pollWith(s.session_id, s.poll_token), 410, 'GONE');
    expectError(await initiate(creds, 'https://evil.example.com'), 403, 'ORIGIN_NOT_ALLOWED');
    const off = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    expectError(await initiate(off), 403, 'FORBIDDEN');
  });

  it("another tenant's device cannot approve (404); a forged code is refused (401); an expired one 410", async () => {
    const other = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, qr_login_allowed_origins: [ORIGIN] });
    const stranger = await pairDevice(relay.baseUrl, other, newUserHash());
    const device = await pairDevice(relay.baseUrl, creds, newUserHash());
    const s = (await initiate()).body.data;
    expectError(await stranger.answerQr(s.qr_code_str, s.session_id, 'approve'), 404, 'NOT_FOUND');
    const [head, payload, sig] = (s.qr_code_str as string).split('.');
    const p = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...p, tenant_name: 'Your Bank' })).toString('base64url')}.${sig}`;
    assert.equal((await device.scan(forged)).ok, false, 'the device refuses a code the relay did not sign');
    expectError(await device.answerQr(forged, s.session_id, 'approve'), 401, 'INVALID_SIGNATURE');
    await sleep(10_200);
    expectError(await device.answerQr(s.qr_code_str, s.session_id, 'approve'), 410, 'EXPIRED');
    expectError(await pollWith(s.session_id, s.poll_token), 410, 'GONE');
  });

  it('against QR-login phishing: the device sees the origin and a coarse browser, and number matching refuses a wrong pick', async () => {
    const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const device = await pairDevice(relay.baseUrl, creds, newUserHash(), { backendUserId: 'qr-match-user' });
    const start = () =>
      signed(relay.baseUrl, creds, 'POST', '/relay/qr-login/initiate', {
        browser_origin: ORIGIN,
        browser_user_agent: UA,
        number_matching: true,
      });
    const s = await start();
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const { session_id, poll_token, qr_code_str, match_number, browser } = s.body.data;
    assert.equal(browser, 'Chrome on Windows');
    assert.match(match_number, /^\d{2}$/, 'the number the browser shows');
    const seen = await device.scan(qr_code_str);
    assert.ok(seen.ok, JSON.stringify(seen));
    assert.equal(seen.ok && seen.payload.origin, ORIGIN);
    assert.equal(seen.ok && seen.payload.browser, 'Chrome on Windows', 'the device shows which browser asked, coarsely');
    assert.ok(!JSON.stringify(seen.ok && seen.payload).includes('Win64'), 'never the raw User-Agent');
    const choices = (seen.ok && seen.payload.num_choices) || [];
    assert.equal(choices.length, 3);
    assert.equal(new Set(choices).size, 3);
    assert.ok(choices.includes(match_number), 'one of the three is the number shown');

    // An approval without a number is refused (the session stays open); a wrong pick ends it denied.
    expectError(await device.answerQr(qr_code_str, session_id, 'approve'), 422, 'VALIDATION_FAILED');
    const wrong = choices.find((c: string) => c !== match_number)!;
    const refused = await device.answerQr(qr_code_str, session_id, 'approve', Date.now(), wrong);
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    assert.equal(refused.body.data.status, 'denied');
    assert.equal(refused.body.data.reason, 'number_mismatch');
    expectError(await device.answerQr(qr_code_str, session_id, 'approve', Date.now(), match_number), 409, 'ALREADY_RESOLVED');
    assert.equal((await pollWith(session_id, poll_token)).body.data.status, 'denied');

    // The right pick signs in.
    const again = (await start()).body.data;
    const ok = await device.answerQr(again.qr_code_str, again.session_id, 'approve', Date.now(), again.match_number);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.data.status, 'approved');
    const polled = await pollWith(again.session_id, again.poll_token);
    assert.equal(polled.body.data.backend_user_id, 'qr-match-user');

    // Without number_matching (the default), existing clients are unchanged: no number, none needed.
    const plain = (await initiate()).body.data;
    assert.equal(plain.match_number, null);
    assert.equal(plain.browser, 'an unknown browser');
    assert.equal((await device.answerQr(plain.qr_code_str, plain.session_id, 'approve')).status, 200);
  });

  it('the reference device CLI: scan shows who asks and approves with --approve', async () => {
    const device = await pairDevice(relay.baseUrl, creds, newUserHash(), { backendUserId: 'cli-user' });
    const dir = mkdtempSync(join(tmpdir(), 'qr-cli-'));
    const stateFile = join(dir, 'device.json');
    writeFileSync(stateFile, JSON.stringify(device.state), { mode: 0o600 });
    const initiate = async () =>
      (
        await signed(relay.baseUrl, creds, 'POST', '/relay/qr-login/initiate', {
          browser_origin: ORIGIN,
          browser_user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        })
      ).body.data;
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/device.ts', ...args, '--state', stateFile], { cwd: ROOT });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => resolve({ code, out, err }));
      });
    // This suite's codes live 10 s (for the expiry test) and each CLI run starts a process: on a busy
    // machine a code can expire between the two runs, as it would for a slow person. Then the person
    // scans a new code; anything but "expired" fails at once.
    for (let attempt = 1; ; attempt++) {
      const s = await initiate();
      const shown = await run(['scan', s.qr_code_str]);
      const approved = shown.code === 0 ? await run(['scan', s.qr_code_str, '--approve']) : shown;
      if (approved.code !== 0 && /expired/.test(approved.err + approved.out) && attempt < 5) continue;
      assert.equal(shown.code, 0, shown.err);
      assert.match(shown.err, /Example asks you to sign in on https:\/\/app\.example\.com from Firefox on Linux/);
      assert.equal(approved.code, 0, approved.err + approved.out);
      assert.equal((await pollWith(s.session_id, s.poll_token)).body.data.backend_user_id, 'cli-user');
      break;
    }
  });
});
