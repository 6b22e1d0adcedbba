/**
 * Console accounts against the live relay, its worker and a real SMTP server: registration with the
 * emailed code, sign-in with the second factor (emailed code, TOTP, recovery codes), reset, and every
 * refusal with its status and code — wrong code ×5 kills the challenge, a late code is 410 EXPIRED, a
 * used code 410 GONE, unknown and known addresses get the same answers, limits per address and per IP.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AccountModel, accountIdOf } from '../../models/console/account.js';
import { resealTotpSecrets } from '../../models/console/reseal.js';
import { open, parseKeyRing, sealedFor, type Sealed } from '../../platform/secret-box.js';
import { exposeCodes } from '../../models/console/mail.js';
import { parseConfig } from '../../platform/config.js';
import { redisKey } from '../../platform/keys.js';
import { totpNow } from '../../platform/totp.js';
import { testEnv } from '../support/env.js';
import { PASSWORD, mailCount, newEmail, newIp, signIn, signUp, startConsoleWorld, type ConsoleWorld } from './support.js';

const without = (body: any) => {
  const { request_id: _r, ...error } = body.error ?? {};
  return { ...body, error };
};

describe('console accounts: registration, sign-in with a second factor, reset', function () {
  this.timeout(60_000);
  let w: ConsoleWorld;
  before(async () => {
    w = await startConsoleWorld('console_accounts');
  });
  after(async () => {
    await w?.stop();
  });

  it('registers through the emailed code: a pending account, then a session with the new workspace (owner); no dev_otp when SMTP is set', async () => {
    const email = newEmail();
    const r = await w.api('POST', '/register', {
      body: { email, password: PASSWORD, display_name: 'Jane', organization_name: 'Acme' },
    });
    assert.equal(r.status, 202);
    assert.equal(r.body.data.code_sent, true);
    assert.equal(r.body.data.dev_otp, undefined, 'never a code in the answer when SMTP is configured');
    const mail = await w.smtp.waitFor(email);
    assert.match(mail.subject, /Votre code Bloonio : \d{6}/);
    assert.equal(mail.from, 'console@bloonio.test');
    assert.match(mail.text, /\d{6}/);
    // Not active before verification: the password is right, but the address is not proven (and a new code is sent).
    const early = await w.api('POST', '/login', { body: { email, password: PASSWORD } });
    assert.equal(early.status, 403);
    const code = await w.smtp.code(email, { count: 2 });
    assert.notEqual(code, /(\d{6})/.exec(mail.text)?.[1], 'a new code replaces the first');
    const v = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    assert.match(v.body.data.console_token, /^eyJ/);
    assert.equal(v.body.data.account.email, email);
    assert.equal(v.body.data.account.totp_enabled, false);
    assert.deepEqual(
      v.body.data.workspaces.map((x: any) => [x.name, x.role]),
      [['Acme', 'owner']],
    );
    const me = await w.api('GET', '/fetch/session', { token: v.body.data.console_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.account.display_name, 'Jane');
    // Tokens expire after about 7 days.
    const days = (Date.parse(v.body.data.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);
  });

  it('a reused registration code is 410 GONE', async () => {
    const email = newEmail();
    await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'A', organization_name: 'A' } });
    const code = await w.smtp.code(email);
    assert.equal((await w.api('POST', '/verify/registration', { body: { email, otp: code } })).status, 201);
    const again = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
    assert.equal(again.status, 410);
    assert.equal(again.body.error.code, 'GONE');
  });

  it('wrong code ×5 kills the registration challenge: 401 INVALID_CODE four times, then 410 GONE, and the right code is refused after', async () => {
    const email = newEmail();
    await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'B', organization_name: 'B' } });
    const code = await w.smtp.code(email);
    const wrong = code === '000000' ? '111111' : '000000';
    const seen: [number, string][] = [];
    for (let i = 0; i < 5; i++) {
      const r = await w.api('POST', '/verify/registration', { body: { email, otp: wrong } });
      seen.push([r.status, r.body.error.code]);
    }
    assert.deepEqual(seen, [
      [401, 'INVALID_CODE'],
      [401, 'INVALID_CODE'],
      [401, 'INVALID_CODE'],
      [401, 'INVALID_CODE'],
      [410, 'GONE'],
    ]);
    const right = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
    assert.equal(right.status, 410, 'a dead challenge refuses even the right code');
    // A new code (resend) starts a new challenge.
    const before = mailCount(w, email);
    assert.equal((await w.api('POST', '/resend/registration-otp', { body: { email } })).status, 202);
    const fresh = await w.smtp.code(email, { count: before + 1 });
    assert.equal((await w.api('POST', '/verify/registration', { body: { email, otp: fresh } })).status, 201);
  });

  it('an expired code is 410 EXPIRED', async () => {
    const email = newEmail();
    await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'C', organization_name: 'C' } });
    const code = await w.smtp.code(email);
    // Ten minutes pass: the code's expiry moves into the past (the challenge itself lives 10 minutes longer).
    await w.redis.hset(
      redisKey.consoleChallenge(w.relay.config.queuePrefix, `reg:${accountIdOf(email)}`),
      'code_exp',
      String(Date.now() - 1000),
    );
    const r = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
    assert.equal(r.status, 410);
    assert.equal(r.body.error.code, 'EXPIRED');
  });

  it('register answers the same for an address that already has an account (and mails it a note instead of a code)', async () => {
    const known = await signUp(w);
    const before = mailCount(w, known.email);
    const fresh = newEmail();
    const a = await w.api('POST', '/register', {
      body: { email: known.email, password: PASSWORD, display_name: 'X', organization_name: 'X' },
    });
    const b = await w.api('POST', '/register', { body: { email: fresh, password: PASSWORD, display_name: 'X', organization_name: 'X' } });
    assert.equal(a.status, b.status);
    assert.equal(a.body.message, b.body.message);
    assert.deepEqual(Object.keys(a.body.data).sort(), Object.keys(b.body.data).sort());
    const note = await w.smtp.waitFor(known.email, { count: before + 1 });
    assert.match(note.subject, /déjà un compte/);
    assert.doesNotMatch(note.text, /\d{6}/);
  });

  it('sign-in without TOTP: password, then the emailed code; wrong password and unknown address get one answer; a used code is 410', async () => {
    const s = await signUp(w);
    const badPw = await w.api('POST', '/login', { body: { email: s.email, password: 'wrong password!' } });
    const unknown = await w.api('POST', '/login', { body: { email: newEmail('nobody'), password: 'wrong password!' } });
    assert.equal(badPw.status, 401);
    assert.deepEqual(without(badPw.body), without(unknown.body));
    assert.equal(badPw.body.error.code, 'INVALID_CREDENTIALS');

    const l = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    assert.equal(l.status, 200);
    assert.equal(l.body.data.redirect_to_mfa, true);
    assert.match(l.body.data.challenge_token, /^chl_/);
    assert.deepEqual(l.body.data.mfa_factors, ['email']);
    const chl = l.body.data.challenge_token;
    const noCode = await w.api('POST', '/verify/login-otp', { body: { challenge_token: chl, otp: '123456' } });
    assert.equal(noCode.status, 409, 'no code asked yet');
    const totp = await w.api('POST', '/get/login-otp', { body: { challenge_token: chl, factor: 'totp' } });
    assert.equal(totp.status, 409, 'no TOTP on this account');
    const before = mailCount(w, s.email);
    const g = await w.api('POST', '/get/login-otp', { body: { challenge_token: chl, factor: 'email' } });
    assert.equal(g.status, 200);
    assert.equal(g.body.data.code_sent, true);
    const code = await w.smtp.code(s.email, { count: before + 1 });
    assert.match(w.smtp.to(s.email)[before]?.subject ?? '', /connexion/);
    const v = await w.api('POST', '/verify/login-otp', { body: { challenge_token: chl, otp: code } });
    assert.equal(v.status, 201);
    assert.equal(v.body.data.workspaces[0].workspace_id, s.workspaceId);
    const reuse = await w.api('POST', '/verify/login-otp', { body: { challenge_token: chl, otp: code } });
    assert.equal(reuse.status, 410);
    assert.equal(reuse.body.error.code, 'GONE');
  });

  it('wrong sign-in code ×5 ends the sign-in (410 GONE, even for the right code)', async () => {
    const s = await signUp(w);
    const l = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    const chl = l.body.data.challenge_token;
    const before = mailCount(w, s.email);
    await w.api('POST', '/get/login-otp', { body: { challenge_token: chl, factor: 'email' } });
    const code = await w.smtp.code(s.email, { count: before + 1 });
    const wrong = code === '999999' ? '888888' : '999999';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await w.api('POST', '/verify/login-otp', { body: { challenge_token: chl, otp: wrong } })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 410]);
    const right = await w.api('POST', '/verify/login-otp', { body: { challenge_token: chl, otp: code } });
    assert.equal(right.status, 410);
    assert.equal(
      (await w.api('POST', '/get/login-otp', { body: { challenge_token: chl, factor: 'email' } })).status,
      410,
      'no new code for a dead sign-in',
    );
  });

  it('TOTP: enrol (secret and QR once) → confirm → recovery codes; sign-in then takes the app code (once per step) or a recovery code (once); other sessions end', async () => {
    const s = await signUp(w);
    const other = await signIn(w, s.email);
    const e = await w.api('POST', '/enrol/totp', { token: s.token });
    assert.equal(e.status, 200);
    assert.match(e.body.data.secret, /^[A-Z2-7]{32}$/);
    assert.match(e.body.data.otpauth_url, /^otpauth:\/\/totp\/Bloonio%20Relay:/);
    assert.match(e.body.data.qr_data_url, /^data:image\/svg\+xml;base64,/);
    const secret = e.body.data.secret as string;
    const bad = await w.api('POST', '/confirm/totp', {
      token: s.token,
      body: { code: totpNow(secret) === '000000' ? '111111' : '000000' },
    });
    assert.equal(bad.status, 401);
    // The codes below are derived from the confirmation's moment, not read off the clock when used:
    // a 30 s step boundary may pass between two requests.
    const confirmedAt = Date.now();
    const confirmCode = totpNow(secret, confirmedAt);
    const c = await w.api('POST', '/confirm/totp', { token: s.token, body: { code: confirmCode } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const recovery = c.body.data.recovery_codes as string[];
    assert.equal(recovery.length, 10);
    assert.equal((await w.api('GET', '/fetch/session', { token: s.token })).status, 200, 'this session goes on');
    assert.equal((await w.api('GET', '/fetch/session', { token: other.token })).status, 401, 'other sessions ended');
    assert.equal((await w.api('POST', '/enrol/totp', { token: s.token })).status, 409);

    const l = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    assert.deepEqual(l.body.data.mfa_factors, ['totp']);
    assert.equal(
      (await w.api('POST', '/get/login-otp', { body: { challenge_token: l.body.data.challenge_token, factor: 'email' } })).status,
      409,
      'no email bypass of the app',
    );
    // The confirmation used its step: that code again is refused; the next step's code works.
    const usedStep = await w.api('POST', '/verify/login-otp', {
      body: { challenge_token: l.body.data.challenge_token, otp: confirmCode },
    });
    assert.equal(usedStep.status, 401);
    const next = totpNow(secret, confirmedAt + 30_000);
    const v = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l.body.data.challenge_token, otp: next } });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    assert.equal(v.body.data.account.totp_enabled, true);

    const l2 = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    const rc = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l2.body.data.challenge_token, otp: recovery[0] } });
    assert.equal(rc.status, 201);
    assert.equal(rc.body.data.account.recovery_codes_left, 9);
    const l3 = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    const again = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l3.body.data.challenge_token, otp: recovery[0] } });
    assert.equal(again.status, 401, 'a recovery code works once');

    // Turning it off takes the password and a code.
    const off1 = await w.api('POST', '/remove/totp', {
      token: rc.body.data.console_token,
      body: { password: 'not it at all', code: recovery[1] },
    });
    assert.equal(off1.status, 401);
    const off = await w.api('POST', '/remove/totp', { token: rc.body.data.console_token, body: { password: PASSWORD, code: recovery[1] } });
    assert.equal(off.status, 200);
    const l4 = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    assert.deepEqual(l4.body.data.mfa_factors, ['email']);

    const activity = await w.api('GET', '/fetch/activity', { token: rc.body.data.console_token });
    const actions = activity.body.data.entries.map((x: any) => x.action);
    for (const a of ['account.registered', 'account.totp_enabled', 'account.signed_in', 'account.totp_removed'])
      assert.ok(actions.includes(a), `${a} in ${actions}`);
    assert.equal(activity.body.data.entries[0].user_agent, 'console-test/1.0');
  });

  it('logout and session revocation end a token at once', async () => {
    const s = await signUp(w);
    const second = await signIn(w, s.email);
    const list = await w.api('GET', '/fetch/sessions', { token: s.token });
    assert.equal(list.body.data.sessions.length, 2);
    assert.equal(list.body.data.sessions.filter((x: any) => x.current).length, 1);
    assert.equal((await w.api('POST', '/revoke/session', { token: s.token, body: { session_id: second.sessionId } })).status, 200);
    assert.equal((await w.api('GET', '/fetch/session', { token: second.token })).status, 401);
    assert.equal((await w.api('POST', '/logout', { token: s.token })).status, 200);
    const after = await w.api('GET', '/fetch/session', { token: s.token });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'INVALID_TOKEN');
  });

  it('password reset by email: the same answer for an unknown address; the code sets a new password and ends every session', async () => {
    const s = await signUp(w);
    const unknown = newEmail('nobody');
    const a = await w.api('POST', '/request/password-reset', { body: { email: s.email } });
    const b = await w.api('POST', '/request/password-reset', { body: { email: unknown } });
    assert.equal(a.status, 202);
    assert.deepEqual(Object.keys(a.body.data).sort(), Object.keys(b.body.data).sort());
    assert.equal(a.body.message, b.body.message);
    const note = await w.smtp.waitFor(unknown);
    assert.match(note.text, /aucun compte/);
    const code = await w.smtp.code(s.email, { subject: /Réinitialisation/ });
    const r = await w.api('POST', '/reset/password', { body: { email: s.email, otp: code, new_password: 'an entirely new passphrase' } });
    assert.equal(r.status, 200);
    assert.equal((await w.api('GET', '/fetch/session', { token: s.token })).status, 401, 'sessions ended');
    assert.equal((await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } })).status, 401);
    await signIn(w, s.email, 'an entirely new passphrase');
    assert.equal(
      (await w.api('POST', '/reset/password', { body: { email: s.email, otp: code, new_password: 'yet another passphrase' } })).status,
      410,
      'a reset code works once',
    );
  });

  it('changing the password needs the current one and ends the other sessions', async () => {
    const s = await signUp(w);
    const other = await signIn(w, s.email);
    const bad = await w.api('POST', '/change/password', {
      token: s.token,
      body: { current_password: 'nope nope nope', new_password: 'a fresh passphrase here' },
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, 'INVALID_CREDENTIALS');
    const ok = await w.api('POST', '/change/password', {
      token: s.token,
      body: { current_password: PASSWORD, new_password: 'a fresh passphrase here' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.data.other_sessions_ended, 1);
    assert.equal((await w.api('GET', '/fetch/session', { token: other.token })).status, 401);
    assert.equal((await w.api('GET', '/fetch/session', { token: s.token })).status, 200);
  });

  it('limits sign-in attempts per (address, IP), with a higher bound per address from all IPs, and per IP (whatever the address): 429 with Retry-After, the same for unknown addresses', async () => {
    // The limits count in 15-minute windows aligned to the clock (models/console/limits.ts): tries that
    // straddle a window's end count in two windows. Such a run is made again, with fresh addresses and
    // IPs, in the next window (it cannot straddle twice: the run is far shorter than a window). Every
    // IP is new (newIp hands each out once), so no try of one run counts against another.
    const WINDOW_MS = 15 * 60_000;
    const tryAll = async () => {
      const target = newEmail('target');
      const attacker = newIp();
      const codes: number[] = [];
      for (let i = 0; i < 13; i++)
        codes.push((await w.api('POST', '/login', { body: { email: target, password: 'guess guess guess' }, ip: attacker })).status);
      // From elsewhere the address is not locked, until the bound over all IPs (30 in this world; the 13 above count).
      const spread: number[] = [];
      for (let i = 0; i < 17; i++)
        spread.push((await w.api('POST', '/login', { body: { email: target, password: 'guess guess guess' }, ip: newIp() })).status);
      const over = await w.api('POST', '/login', { body: { email: target, password: 'guess guess guess' }, ip: newIp() });
      const ip = newIp();
      const byIp: number[] = [];
      for (let i = 0; i < 41; i++)
        byIp.push((await w.api('POST', '/login', { body: { email: newEmail('spray'), password: 'guess guess guess' }, ip })).status);
      const last = await w.api('POST', '/login', { body: { email: newEmail('spray'), password: 'guess guess guess' }, ip });
      return { codes, spread, over, byIp, last };
    };
    let run: Awaited<ReturnType<typeof tryAll>>;
    for (;;) {
      const window = Math.floor(Date.now() / WINDOW_MS);
      run = await tryAll();
      if (Math.floor(Date.now() / WINDOW_MS) === window) break;
    }
    const { codes, spread, over, byIp, last } = run;
    assert.deepEqual(codes.slice(0, 12), Array(12).fill(401));
    assert.equal(codes[12], 429, 'the 13th try on one address from one IP is refused');
    assert.deepEqual(spread, Array(17).fill(401));
    assert.equal(over.status, 429, 'the 31st try on one address from all IPs together is refused');
    assert.equal(byIp.filter((x) => x === 401).length, 40);
    assert.equal(last.status, 429);
    assert.equal(last.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(last.headers.get('retry-after')) > 0);
  });

  it('dev_otp only in local development without SMTP', () => {
    const env = testEnv('dev_otp');
    assert.equal(exposeCodes(parseConfig({ ...env, RELAY_DEV_PAGES: 'true' })), true);
    assert.equal(exposeCodes(parseConfig({ ...env, RELAY_DEV_PAGES: 'true', SMTP_URL: 'smtp://u:p@127.0.0.1:2525' })), false);
    assert.equal(exposeCodes(parseConfig({ ...env })), false);
    assert.equal(exposeCodes(parseConfig({ ...env, RELAY_DEV_PAGES: 'false' })), false);
  });

  it('a master-key rotation re-seals TOTP secrets under the new key (idempotent), and they still open', async () => {
    const s = await signUp(w);
    const e = await w.api('POST', '/enrol/totp', { token: s.token });
    assert.equal((await w.api('POST', '/confirm/totp', { token: s.token, body: { code: totpNow(e.body.data.secret) } })).status, 201);
    const ring = parseKeyRing(`next:${randomBytes(32).toString('hex')},${w.relay.env.SECRETS_MASTER_KEY}`);
    const r = await resealTotpSecrets(ring);
    assert.ok(r.resealed >= 1);
    assert.equal((await resealTotpSecrets(ring)).resealed, 0, 'idempotent');
    const sealed = (await AccountModel.findById(s.accountId).lean())?.totp_secret as Sealed;
    assert.equal(sealed.kid, 'next');
    assert.equal(sealed.v, 2, 'in the format bound to the account and field');
    assert.equal(open(ring, sealed, sealedFor.totpSecret(s.accountId)), e.body.data.secret);
  });
});
