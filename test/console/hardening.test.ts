/**
 * The console findings of the hostile review (issue 20), each as a person or an attacker would meet
 * it, against the live relay, its worker and a real SMTP server: invitation tokens only in POST
 * bodies and accounts active only after the emailed code; step-up before sensitive changes; the idle
 * timeout; invitation links never built from Host; attacker-chosen names never linkable in mail;
 * quotas; lockout per (address, IP); recovery codes; a pending registration's password kept; the
 * chained audit log.
 */
import assert from 'node:assert/strict';
import { AccountModel, accountIdOf } from '../../models/console/account.js';
import { recoveryHash } from '../../models/console/account-flows.js';
import * as auditModel from '../../models/console/audit.js';
import { redisKey } from '../../platform/keys.js';
import { totpNow } from '../../platform/totp.js';
import { eventually } from '../support/harness.js';
import {
  PASSWORD,
  inWs,
  invite,
  mailCount,
  newEmail,
  newIp,
  signIn,
  signUp,
  startConsoleWorld,
  type ConsoleWorld,
  type Signed,
} from './support.js';

describe('console hardening (issue 20)', function () {
  this.timeout(120_000);
  let w: ConsoleWorld;
  before(async () => {
    w = await startConsoleWorld('console_hardening', {
      CONSOLE_MAX_WORKSPACES_PER_ACCOUNT: '2',
      CONSOLE_MAX_TENANTS_PER_WORKSPACE: '2',
    });
  });
  after(async () => {
    await w?.stop();
  });

  const post = (s: Signed, path: string, body: unknown, extra = '') =>
    w.api('POST', inWs(path, s.workspaceId, extra), { token: s.token, body });
  /** The session last proved its password an hour ago (as if signed in long before). */
  const ageAuthentication = async (s: Signed) => {
    const k = redisKey.consoleSession(w.relay.config.queuePrefix, s.sessionId);
    const rec = JSON.parse((await w.redis.get(k)) ?? '{}');
    await w.redis.set(k, JSON.stringify({ ...rec, auth_at: Date.now() - 3_600_000 }), 'KEEPTTL');
  };
  const newTenant = async (s: Signed, name = 'T') => {
    const r = await post(s, '/provision/tenant', { tenant_name: name });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data.tenant_id as string;
  };

  it('invitation tokens travel only in POST bodies, and the link alone never makes an active account: a password, then the emailed code', async () => {
    const owner = await signUp(w);
    const email = newEmail('invitee');
    const token = await invite(w, owner, email);
    const inUrl = await w.api('GET', `/fetch/invitation?token=${encodeURIComponent(token)}`);
    assert.equal(inUrl.status, 405, 'no route takes the token in a URL');
    const info = await w.api('POST', '/fetch/invitation', { body: { invite_token: token } });
    assert.equal(info.status, 200);
    assert.equal(info.body.data.email, email);
    const before = mailCount(w, email);
    const r = await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'Ivy', invite_token: token } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.data.console_token, undefined, 'no session before the address is proven');
    assert.equal((await AccountModel.findById(accountIdOf(email)).lean())?.status, 'pending');
    assert.equal((await w.api('POST', '/login', { body: { email, password: PASSWORD } })).status, 403, 'pending: not active');
    // (That sign-in attempt mailed a fresh code, which replaces the first.)
    const code = await w.smtp.code(email, { count: before + 2 });
    const v = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    assert.deepEqual(
      v.body.data.workspaces.map((x: any) => [x.workspace_id, x.role]),
      [[owner.workspaceId, 'member']],
    );
  });

  it('step-up: rotating a secret, changing a callback or bot URL, inviting or making an owner need a recent password or TOTP (403 STEP_UP_REQUIRED); re-authenticating allows them', async () => {
    const owner = await signUp(w);
    const tenant = await newTenant(owner);
    await ageAuthentication(owner);
    const t = `&tenant_id=${tenant}`;
    const refused = [
      await post(owner, '/rotate/tenant-secret', {}, t),
      await post(owner, '/update/tenant', { callback_url_base: 'https://attacker.example' }, t),
      await post(owner, '/update/tenant', { bot_webhook_url: 'https://attacker.example/bot' }, t),
      await post(owner, '/create/invitation', { email: newEmail('new-owner'), role: 'owner' }),
    ];
    assert.deepEqual(
      refused.map((r) => [r.status, r.body.error?.code]),
      Array(4).fill([403, 'STEP_UP_REQUIRED']),
    );
    // What is not sensitive goes through.
    assert.equal((await post(owner, '/update/tenant', { branding_display_name: 'Shop' }, t)).status, 200);
    assert.equal((await post(owner, '/create/invitation', { email: newEmail('member') })).status, 201);
    // A wrong password proves nothing; the right one opens the window.
    const wrong = await w.api('POST', '/reauthenticate', { token: owner.token, body: { password: 'not my password' } });
    assert.equal(wrong.status, 401);
    assert.equal((await post(owner, '/rotate/tenant-secret', {}, t)).status, 403);
    const ok = await w.api('POST', '/reauthenticate', { token: owner.token, body: { password: PASSWORD } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await post(owner, '/rotate/tenant-secret', {}, t)).status, 200);
    assert.equal((await post(owner, '/update/tenant', { callback_url_base: 'https://api.example.com' }, t)).status, 200);

    // A TOTP account may step up with a code instead.
    const enrol = await w.api('POST', '/enrol/totp', { token: owner.token });
    const confirmedAt = Date.now(); // the next step's code is derived from it: a step boundary may pass meanwhile
    await w.api('POST', '/confirm/totp', { token: owner.token, body: { code: totpNow(enrol.body.data.secret, confirmedAt) } });
    await ageAuthentication(owner);
    assert.equal((await post(owner, '/rotate/tenant-secret', {}, t)).status, 403);
    const byCode = await w.api('POST', '/reauthenticate', {
      token: owner.token,
      body: { code: totpNow(enrol.body.data.secret, confirmedAt + 30_000) },
    });
    assert.equal(byCode.status, 200, JSON.stringify(byCode.body));
    assert.equal((await post(owner, '/rotate/tenant-secret', {}, t)).status, 200);
  });

  it('a session unused for CONSOLE_IDLE_TIMEOUT_SECONDS ends: its record expires after the idle time, pushed back by each use', async () => {
    const s = await signUp(w);
    const k = redisKey.consoleSession(w.relay.config.queuePrefix, s.sessionId);
    const idle = w.relay.config.consoleIdleTimeoutSeconds;
    assert.equal(idle, 1800, 'the default: 30 minutes');
    await w.redis.expire(k, 60); // as if most of the idle time had passed
    assert.equal((await w.api('GET', '/fetch/session', { token: s.token })).status, 200);
    const ttl = await w.redis.ttl(k);
    assert.ok(ttl > 60 && ttl <= idle, `a use pushes the idle deadline back to ${idle} s (TTL now ${ttl} s)`);
    await w.redis.pexpire(k, 1); // the idle time runs out
    await eventually(async () => (await w.redis.exists(k)) === 0);
    const after = await w.api('GET', '/fetch/session', { token: s.token });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'INVALID_TOKEN');
  });

  it('a session left idle for real ends, while one in use stays (CONSOLE_IDLE_TIMEOUT_SECONDS=3)', async () => {
    const short = await startConsoleWorld('console_idle', { CONSOLE_IDLE_TIMEOUT_SECONDS: '3' });
    try {
      const busy = await signUp(short);
      const idle = await signIn(short, busy.email);
      // The busy session is used every 300 ms for longer than the idle time; the other is not.
      const until = Date.now() + 4500;
      while (Date.now() < until) {
        assert.equal((await short.api('GET', '/fetch/session', { token: busy.token })).status, 200, 'a session in use stays');
        await new Promise((r) => setTimeout(r, 300));
      }
      await eventually(async () => (await short.api('GET', '/fetch/session', { token: idle.token })).status === 401, 20_000);
    } finally {
      await short.stop();
    }
  });

  it("invitation links are never built from the request's Host: PUBLIC_BASE_URL, else 503 NOT_CONFIGURED", async () => {
    const owner = await signUp(w);
    const email = newEmail('hosted');
    const r = await w.api('POST', inWs('/create/invitation', owner.workspaceId), { token: owner.token, body: { email } });
    assert.equal(r.status, 201);
    // (The harness's Host is the relay's own; send one an attacker picks.)
    const { call } = await import('../support/client.js');
    const evil = await call(w.relay.baseUrl, 'POST', `/api/v1/console${inWs('/create/invitation', owner.workspaceId)}`, {
      headers: {
        Host: 'evil.example',
        Authorization: `Bearer ${owner.token}`,
        'Content-Type': 'application/json',
        'X-Forwarded-Host': 'evil.example',
      },
      body: JSON.stringify({ email: newEmail('evil') }),
    });
    assert.equal(evil.status, 201);
    const mail = await w.smtp.waitFor(evil.body.data.email);
    assert.doesNotMatch(mail.text, /evil\.example/);
    assert.match(mail.text, new RegExp(`${w.relay.config.publicBaseUrl}/console#invite=ivt_`));
    const saved = w.relay.config.publicBaseUrl;
    w.relay.config.publicBaseUrl = undefined;
    try {
      const refused = await w.api('POST', inWs('/create/invitation', owner.workspaceId), {
        token: owner.token,
        body: { email: newEmail() },
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'NOT_CONFIGURED');
      assert.match(refused.body.message, /PUBLIC_BASE_URL/);
    } finally {
      w.relay.config.publicBaseUrl = saved;
    }
  });

  it('attacker-chosen workspace and display names are never linkable in the invitation mail (text and HTML parts)', async () => {
    const owner = await signUp(w, { org: 'Pay at http://evil.example/login or evil.com', name: 'support@evil.com www.evil.com' });
    const email = newEmail('victim');
    await invite(w, owner, email);
    const mail = (await w.smtp.waitFor(email)) as any;
    const link = /(https?:\/\/\S+#invite=\S+)/.exec(mail.text)?.[1] ?? '';
    assert.ok(link.startsWith(`${w.relay.config.publicBaseUrl}/console#invite=`));
    // Whatever a linkifier would take: schemes, www., domain-like words, addresses; only the relay's link is one.
    const linkable = /(https?:\/\/\S+|www\.\S+|[\w-]+(\.[\w-]+)+|\S+@\S+)/gi;
    const inText = `${mail.subject}\n${mail.text}`.split(link).join('').match(linkable) ?? [];
    assert.deepEqual(inText, [], 'nothing linkable but the invitation link in the subject and text');
    const html = String(mail.html ?? '');
    assert.deepEqual(
      [...html.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]),
      [link.replace(/&/g, '&amp;')],
    );
    const htmlText = html.replace(/<a href="[^"]+">[^<]+<\/a>/g, '').replace(/<[^>]+>/g, ' ');
    assert.deepEqual(htmlText.match(linkable) ?? [], [], 'nothing linkable in the HTML part but the anchor');
    assert.match(mail.text, /evil․com/, 'the name stays readable (a one-dot leader for the dot)');
  });

  it('quotas: workspaces per account and tenants per workspace (409 QUOTA_EXCEEDED)', async () => {
    const s = await signUp(w); // its first workspace counts
    assert.equal((await w.api('POST', '/create/workspace', { token: s.token, body: { name: 'Second' } })).status, 201);
    const third = await w.api('POST', '/create/workspace', { token: s.token, body: { name: 'Third' } });
    assert.equal(third.status, 409);
    assert.equal(third.body.error.code, 'QUOTA_EXCEEDED');
    await newTenant(s, 'one');
    await newTenant(s, 'two');
    const over = await post(s, '/provision/tenant', { tenant_name: 'three' });
    assert.equal(over.status, 409);
    assert.equal(over.body.error.code, 'QUOTA_EXCEEDED');
  });

  it("a known address is not locked out by someone else's failures: the owner signs in from another IP while the attacker's IP is refused", async () => {
    const s = await signUp(w);
    const attacker = newIp();
    const seen: number[] = [];
    for (let i = 0; i < 13; i++)
      seen.push((await w.api('POST', '/login', { body: { email: s.email, password: 'guess guess guess' }, ip: attacker })).status);
    assert.equal(seen.at(-1), 429, 'the attacker is stopped');
    const owner = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD }, ip: newIp() });
    assert.equal(owner.status, 200, `the owner, elsewhere, is not: ${JSON.stringify(owner.body)}`);
  });

  it('recovery codes carry at least 64 random bits and are stored slow-hashed, never as a bare SHA-256; codes of the earlier form keep working', async () => {
    const s = await signUp(w);
    const enrol = await w.api('POST', '/enrol/totp', { token: s.token });
    const c = await w.api('POST', '/confirm/totp', { token: s.token, body: { code: totpNow(enrol.body.data.secret) } });
    const codes = c.body.data.recovery_codes as string[];
    for (const code of codes) assert.match(code, /^[a-z2-7]{5}(-[a-z2-7]{5}){3}$/, '20 base32 characters: 100 bits (80 secret)');
    const stored = (await AccountModel.findById(s.accountId).lean())?.recovery_codes ?? [];
    assert.equal(stored.length, 10);
    for (const [i, code] of codes.entries()) {
      assert.ok(!stored.includes(recoveryHash(code)), 'not an unsalted SHA-256');
      assert.match(stored[i] ?? '', /^r2:[a-z2-7]{4}:\$argon2id\$/);
    }
    // A code of the earlier form (made before this change) still signs in, once.
    await AccountModel.updateOne({ _id: s.accountId }, { $push: { recovery_codes: recoveryHash('abcde-12345') } });
    const l = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    const v = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l.body.data.challenge_token, otp: 'abcde-12345' } });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    const l2 = await w.api('POST', '/login', { body: { email: s.email, password: PASSWORD } });
    const v2 = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l2.body.data.challenge_token, otp: codes[3] } });
    assert.equal(v2.status, 201, JSON.stringify(v2.body));
  });

  it("a second registration of an unverified address does not replace the first one's password", async () => {
    const email = newEmail('pending');
    const ip = newIp();
    await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'First', organization_name: 'First' }, ip });
    await w.smtp.code(email);
    const second = await w.api('POST', '/register', {
      body: { email, password: 'the attacker password', display_name: 'Second', organization_name: 'Second' },
      ip: newIp(),
    });
    assert.equal(second.status, 202, 'the same answer');
    const code = await w.smtp.code(email, { count: 2 });
    const v = await w.api('POST', '/verify/registration', { body: { email, otp: code }, ip });
    assert.equal(v.status, 201);
    assert.deepEqual(
      v.body.data.workspaces.map((x: any) => x.name),
      ['First'],
    );
    assert.equal((await w.api('POST', '/login', { body: { email, password: 'the attacker password' } })).status, 401);
    assert.equal((await w.api('POST', '/login', { body: { email, password: PASSWORD } })).status, 200);
  });

  it('the audit log is a hash chain per workspace: verify finds an altered, removed or dropped entry; a change is logged before it is made', async () => {
    const s = await signUp(w);
    const tenant = await newTenant(s);
    await post(s, '/update/tenant', { branding_display_name: 'A' }, `&tenant_id=${tenant}`);
    await post(s, '/suspend/tenant', {}, `&tenant_id=${tenant}`);
    // A change that fails is logged as attempted, then failed.
    const missing = await post(s, '/suspend/tenant', {}, `&tenant_id=tnt_${'0'.repeat(24)}`);
    assert.equal(missing.status, 404);
    const log = await w.api('GET', inWs('/fetch/audit-log', s.workspaceId), { token: s.token });
    assert.deepEqual(
      log.body.data.entries.slice(0, 2).map((e: any) => e.action),
      ['tenant.suspended.failed', 'tenant.suspended'],
    );
    const { AuditBucketModel, verifyAuditChain } = auditModel;
    const ws = { workspaceId: s.workspaceId };
    const good = await verifyAuditChain(ws);
    assert.deepEqual(good, { ok: true, entries: 6, unchained: 0 });
    const bucket = `${s.workspaceId}:0`;
    const original = (await AuditBucketModel.findById(bucket).lean()) as any;
    try {
      // Altered: an entry's details rewritten.
      const altered = original.entries.map((e: any) => (e.seq === 3 ? { ...e, details: { fields: ['nothing'] } } : e));
      await AuditBucketModel.updateOne({ _id: bucket }, { $set: { entries: altered } });
      assert.deepEqual([(await verifyAuditChain(ws)).ok, (await verifyAuditChain(ws)).at_seq], [false, 3]);
      // Removed from the middle, renumbered to hide it.
      const removed = original.entries.filter((e: any) => e.seq !== 2).map((e: any) => (e.seq > 2 ? { ...e, seq: e.seq - 1 } : e));
      await AuditBucketModel.updateOne({ _id: bucket }, { $set: { entries: removed } });
      assert.equal((await verifyAuditChain(ws)).ok, false);
      // The newest entry dropped.
      await AuditBucketModel.updateOne({ _id: bucket }, { $set: { entries: original.entries.slice(0, -1) } });
      assert.equal((await verifyAuditChain(ws)).ok, false);
    } finally {
      await AuditBucketModel.updateOne({ _id: bucket }, { $set: { entries: original.entries } });
    }
    assert.equal((await verifyAuditChain(ws)).ok, true);
  });
});
