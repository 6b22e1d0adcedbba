/**
 * The console's test world: the relay for real (API in this process, its worker sending mail),
 * a local SMTP server whose mailbox the tests read (test/fakes/smtp-server.ts), and helpers that go
 * through the console exactly as a person would: register, read the code from the mail, verify.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { FakeSmtp } from '../fakes/smtp-server.js';
import { call, type Res } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';

export type ConsoleWorld = {
  relay: Relay;
  smtp: FakeSmtp;
  redis: Redis;
  /** A call to /api/v1/console/…; `ip` sets X-Forwarded-For (the relay trusts it in these tests), so each test has its own client IP. */
  api: (method: 'GET' | 'POST', path: string, o?: { body?: unknown; token?: string | null; ip?: string; ua?: string }) => Promise<Res<any>>;
  stop: () => Promise<void>;
};

export const PASSWORD = 'correct horse battery staple';
export const newEmail = (tag = 'user') => `${tag}-${randomBytes(4).toString('hex')}@example.com`;
// Client IPs from the documentation ranges (RFC 5737), each handed out once per test process: the
// console's limits count per IP, and two callers drawing the same IP at random spent each other's
// budget (a run saw a sign-in refused as the attacker's IP, drawn again for "another IP").
const TEST_NETS = ['192.0.2', '198.51.100', '203.0.113'];
let ipSeq = 0;
export const newIp = () => {
  const n = ipSeq++ % (254 * TEST_NETS.length);
  return `${TEST_NETS[Math.floor(n / 254)]}.${1 + (n % 254)}`;
};

export async function startConsoleWorld(name: string, extraEnv: Record<string, string> = {}): Promise<ConsoleWorld> {
  const smtp = await new FakeSmtp().start();
  const relay = await startRelay(name, {
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Bloonio Console <console@bloonio.test>',
    TRUST_PROXY: 'true',
    CONSOLE_LIMIT_PER_ADDRESS: '12',
    CONSOLE_LIMIT_PER_IP: '40',
    CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS: '30',
    ...extraEnv,
  });
  await relay.startWorker();
  const redis = new Redis(relay.config.redisUrl);
  const defaultIp = newIp();
  return {
    relay,
    smtp,
    redis,
    api: (method, path, o = {}) =>
      call(relay.baseUrl, method, `/api/v1/console${path}`, {
        headers: {
          'X-Forwarded-For': o.ip ?? defaultIp,
          'User-Agent': o.ua ?? 'console-test/1.0',
          ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
          ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      }),
    stop: async () => {
      await relay.stop();
      await smtp.stop();
      redis.disconnect();
    },
  };
}

export type Signed = { token: string; accountId: string; workspaceId: string; email: string; sessionId: string };

/** How many mails `address` has received so far (to wait for the next one). */
export const mailCount = (w: ConsoleWorld, address: string) => w.smtp.to(address).length;

/** Registers and verifies a new account with its own workspace, through the mailbox. */
export async function signUp(w: ConsoleWorld, opts: { email?: string; org?: string; name?: string; ip?: string } = {}): Promise<Signed> {
  const email = opts.email ?? newEmail();
  const ip = opts.ip ?? newIp();
  const before = mailCount(w, email);
  const r = await w.api('POST', '/register', {
    body: {
      email,
      password: PASSWORD,
      display_name: opts.name ?? email.split('@')[0],
      organization_name: opts.org ?? `Org ${email.slice(0, 8)}`,
    },
    ip,
  });
  if (r.status !== 202) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  const code = await w.smtp.code(email, { count: before + 1 });
  const v = await w.api('POST', '/verify/registration', { body: { email, otp: code }, ip });
  if (v.status !== 201) throw new Error(`verify: ${v.status} ${JSON.stringify(v.body)}`);
  return sessionOf(v, email);
}

export function sessionOf(r: Res<any>, email: string): Signed {
  const d = r.body.data;
  const claims = JSON.parse(Buffer.from(String(d.console_token).split('.')[1] ?? '', 'base64url').toString()) as { sid: string };
  return {
    token: d.console_token,
    accountId: d.account.account_id,
    workspaceId: d.workspaces[0]?.workspace_id ?? '',
    email,
    sessionId: claims.sid,
  };
}

/** Password, then the emailed code (an account without TOTP). */
export async function signIn(w: ConsoleWorld, email: string, password = PASSWORD, ip = newIp()): Promise<Signed> {
  const l = await w.api('POST', '/login', { body: { email, password }, ip });
  if (l.status !== 200) throw new Error(`login: ${l.status} ${JSON.stringify(l.body)}`);
  const before = mailCount(w, email);
  await w.api('POST', '/get/login-otp', { body: { challenge_token: l.body.data.challenge_token, factor: 'email' }, ip });
  const code = await w.smtp.code(email, { count: before + 1 });
  const v = await w.api('POST', '/verify/login-otp', { body: { challenge_token: l.body.data.challenge_token, otp: code }, ip });
  if (v.status !== 201) throw new Error(`verify login: ${v.status} ${JSON.stringify(v.body)}`);
  return sessionOf(v, email);
}

/** A workspace-scoped console path. */
export const inWs = (path: string, workspaceId: string, extra = '') => `${path}?workspace_id=${workspaceId}${extra}`;

/** Invites `email` into the workspace and returns the link's token, read from the invitation mail. */
export async function invite(w: ConsoleWorld, by: Signed, email: string, role = 'member'): Promise<string> {
  const before = mailCount(w, email);
  const r = await w.api('POST', inWs('/create/invitation', by.workspaceId), { token: by.token, body: { email, role } });
  if (r.status !== 201) throw new Error(`invite: ${r.status} ${JSON.stringify(r.body)}`);
  const mail = await w.smtp.waitFor(email, { count: before + 1 });
  const token = /#invite=(ivt_[A-Za-z0-9_.-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no invitation link in: ${mail.text}`);
  return token;
}

/** A new account joining by an invitation link: a password, then the emailed code proves the address. */
export async function joinByInvitation(w: ConsoleWorld, by: Signed, role = 'member', email = newEmail('invitee')): Promise<Signed> {
  const token = await invite(w, by, email, role);
  const before = mailCount(w, email);
  const r = await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'Invitee', invite_token: token } });
  if (r.status !== 202) throw new Error(`register by invitation: ${r.status} ${JSON.stringify(r.body)}`);
  const code = await w.smtp.code(email, { count: before + 1 });
  const v = await w.api('POST', '/verify/registration', { body: { email, otp: code } });
  if (v.status !== 201) throw new Error(`verify by invitation: ${v.status} ${JSON.stringify(v.body)}`);
  const joined = sessionOf(v, email);
  if (joined.workspaceId !== by.workspaceId) throw new Error(`the session lists ${joined.workspaceId}, not the workspace joined`);
  return joined;
}
