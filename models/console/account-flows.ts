/**
 * Registration, sign-in with a second factor, password reset and change (docs/contract.md §3.5).
 *
 * Sign-in policy: a password alone never opens a console session — a console session can rotate
 * tenant secrets. `login` always answers a challenge (`chl_…`) to finish with a second factor: the
 * account's TOTP app (or a recovery code) when enrolled, else a code sent to the address (as GitHub
 * does for accounts without 2FA). Email is not offered to a TOTP account: it would let whoever reads
 * the mailbox skip the app.
 *
 * No account enumeration: registration, sign-in and reset answer the same for a known and an
 * unknown address, after the same work (a password hash is computed or checked on both paths:
 * platform/passwords.ts `verifyOrBurn`; reset and registration queue one mail on both paths), and the
 * rate limits count unknown addresses like known ones (models/console/limits.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../platform/errors.js';
import { hashPassword, needsRehash, verifyOrBurn } from '../../platform/passwords.js';
import { open, seal, sealedFor, type Sealed } from '../../platform/secret-box.js';
import { checkTotp, newTotpSecret } from '../../platform/totp.js';
import { redisKey } from '../../platform/keys.js';
import type { FlowDeps } from '../platform/deps.js';
import { AccountModel, accountIdOf, findAccount, normaliseEmail, type AccountDoc } from './account.js';
import { recordAudit, type AuditWho } from './audit.js';
import { emailedCodeMatches, issueCode, openChallenge, readChallenge, settle, type ChallengeRecord } from './challenges.js';
import { acceptInvitation, findInvitation } from './invitations.js';
import { limitConsole } from './limits.js';
import { exposeCodes, queueMail } from './mail.js';
import { startSession, endAllSessions, markAuthenticated, type SessionMeta } from './sessions.js';
import { createWorkspace } from './workspace.js';

export type Deps = Pick<FlowDeps, 'config' | 'redis' | 'producer'>;
export type Meta = SessionMeta;
export type Locale = 'fr' | 'en';
export type Session = { token: string; expiresAt: Date; sessionId: string; account: AccountDoc };
export type Sent = { expiresAt: Date; devCode?: string };

const who = (a: { _id: string; email: string } | null, meta: Meta): AuditWho => ({
  accountId: a?._id ?? null,
  email: a?.email ?? null,
  ip: meta.ip,
  userAgent: meta.userAgent,
});

const codeTtl = (deps: Deps) => deps.config.consoleCodeTtlSeconds;
/** A challenge outlives its code by 10 minutes, so a late code is told "expired" rather than "unknown". */
const challengeTtl = (deps: Deps) => deps.config.consoleCodeTtlSeconds + 600;
const minutes = (deps: Deps) => Math.round(codeTtl(deps) / 60);
const sent = (deps: Deps, code?: string): Sent => ({
  expiresAt: new Date(Date.now() + codeTtl(deps) * 1000),
  ...(code && exposeCodes(deps.config) ? { devCode: code } : {}),
});

export async function signIn(
  deps: Deps,
  account: AccountDoc,
  meta: Meta,
  action: string,
  details: Record<string, unknown> = {},
): Promise<Session> {
  const s = await startSession(deps, account._id, meta);
  await recordAudit({ accountId: account._id }, who(account, meta), { action, target: s.sessionId, details });
  return { ...s, account };
}

// ---- registration ----------------------------------------------------------------------------

export type RegisterInput = {
  email: string;
  password: string;
  display_name: string;
  organization_name: string;
  locale: Locale;
  /** An invitation link's token (already checked for this address): joined when the address is verified. */
  invite?: string | undefined;
};

/**
 * A pending account and an emailed code; for an address that already has an account, a mail saying
 * so (same answer). A registration waiting for its code is kept: a second registration of the same
 * address does not replace its password (or workspace, or invitation) — it only mails the waiting
 * registration's code again. Once that registration is over (verified, its code dead or expired), a
 * new one may take its place.
 */
export async function register(deps: Deps, input: RegisterInput, meta: Meta): Promise<Sent> {
  const email = normaliseEmail(input.email);
  await limitConsole(deps, 'register', { email, ip: meta.ip });
  const passwordHash = await hashPassword(input.password); // on both paths: the same cost
  const id = accountIdOf(email);
  const existing = await findAccount(id);
  if (existing?.status === 'active') {
    // The same round trips as a new registration — an update that matches nothing, a challenge
    // under a decoy id that no verification reads — so the time taken says nothing either.
    await AccountModel.updateOne({ _id: id, status: 'pending' }, { $set: { display_name: input.display_name } });
    await openChallenge(deps, 'reg', `decoy:${id}`, { email }, challengeTtl(deps));
    await issueCode(deps, 'reg', `decoy:${id}`, { sends: '0' });
    await queueMail(deps, { to: email, kind: 'already-registered', locale: (existing.locale as Locale) ?? input.locale, vars: {} }, 86_400);
    return sent(deps);
  }
  const waiting = existing ? await readChallenge(deps, 'reg', id) : null;
  if (existing && waiting && waiting.dead !== '1')
    return sendRegistrationCode(deps, id, email, (existing.locale as Locale) ?? input.locale, false);
  await AccountModel.updateOne(
    { _id: id },
    {
      $set: {
        email,
        display_name: input.display_name,
        password_hash: passwordHash,
        pending_organization: input.invite ? null : input.organization_name,
        locale: input.locale,
      },
      $setOnInsert: { status: 'pending' },
    },
    { upsert: true },
  );
  const fields: ChallengeRecord = input.invite
    ? { invite: JSON.stringify(seal(deps.config.secretsMasterKey, input.invite, sealedFor.pendingInvite(id))) }
    : {};
  return sendRegistrationCode(deps, id, email, input.locale, true, fields);
}

/**
 * Registration from an invitation link: the invitee sets a password, and the account stays pending
 * until the address is proven with the emailed code (verify/registration), which then accepts the
 * invitation. The link alone never makes an active account: a token read from a log, a forwarded
 * mail or a mail scanner's prefetch is not a proven mailbox with a password only its owner chose.
 */
export async function registerFromInvitation(
  deps: Deps,
  input: { email: string; password: string; display_name: string; invite_token: string; locale: Locale },
  meta: { ip: string; userAgent: string | null },
): Promise<Sent> {
  const email = normaliseEmail(input.email);
  const { inv } = await findInvitation(input.invite_token);
  if (inv.email !== email) throw new DomainError('FORBIDDEN', `This invitation is for another address: register with ${inv.email}.`);
  const existing = await findAccount(accountIdOf(email));
  if (existing?.status === 'active')
    throw new DomainError('CONFLICT', 'An account already uses this address: sign in to accept the invitation.');
  return register(deps, { ...input, organization_name: '', invite: input.invite_token }, meta);
}

async function sendRegistrationCode(
  deps: Deps,
  id: string,
  email: string,
  locale: Locale,
  fresh: boolean,
  fields: ChallengeRecord = {},
): Promise<Sent> {
  let rec = fresh ? null : await readChallenge(deps, 'reg', id);
  // A dead challenge (too many wrong codes) is not revived: a new code is a new challenge (which
  // keeps the invitation the registration came with, sealed: a Redis dump gives no link away).
  if (!rec || rec.dead === '1') {
    await openChallenge(deps, 'reg', id, { email, ...fields, ...(rec?.invite ? { invite: rec.invite } : {}) }, challengeTtl(deps));
    rec = { sends: '0' };
  }
  const code = await issueCode(deps, 'reg', id, rec);
  await queueMail(deps, { to: email, kind: 'registration-code', locale, vars: { code, minutes: minutes(deps) } }, codeTtl(deps));
  return sent(deps, code);
}

export async function resendRegistrationCode(deps: Deps, rawEmail: string, meta: Meta): Promise<Sent> {
  const email = normaliseEmail(rawEmail);
  await limitConsole(deps, 'code-send', { email, ip: meta.ip });
  const account = await findAccount(accountIdOf(email));
  if (account?.status !== 'pending') return sent(deps); // nothing waits for this address: the same answer
  return sendRegistrationCode(deps, account._id, email, (account.locale as Locale) ?? 'fr', false);
}

/** The emailed code proves the address: the account becomes active, its first workspace is created, a session starts. */
export async function verifyRegistration(deps: Deps, rawEmail: string, otp: string, meta: Meta): Promise<Session> {
  const email = normaliseEmail(rawEmail);
  await limitConsole(deps, 'code-check', { email, ip: meta.ip });
  const id = accountIdOf(email);
  const rec = await readChallenge(deps, 'reg', id);
  if (!rec) throw new DomainError('GONE', 'No registration is waiting for this address (or it is over): register again.');
  await settle(deps, 'reg', id, emailedCodeMatches(deps, 'reg', id, rec, otp));
  const account = await AccountModel.findOneAndUpdate(
    { _id: id, status: 'pending' },
    { $set: { status: 'active', pending_organization: null } },
  ).lean<AccountDoc>();
  if (!account) throw new DomainError('GONE', 'This registration is already complete: sign in.');
  const active = { ...account, status: 'active' } as AccountDoc;
  if (rec.invite)
    await joinInvited(
      deps,
      active,
      open(deps.config.secretsMasterKey, JSON.parse(rec.invite) as Sealed, sealedFor.pendingInvite(id)),
      meta,
    );
  if (account.pending_organization) {
    const ws = await createWorkspace(account.pending_organization, { accountId: id, email, displayName: account.display_name });
    await recordAudit({ workspaceId: ws._id }, who(active, meta), {
      action: 'workspace.created',
      target: ws._id,
      details: { name: ws.name },
    });
  }
  return signIn(deps, (await findAccount(id)) ?? active, meta, 'account.registered');
}

/** The invitation a registration came with, accepted once the address is proven (an invitation gone meanwhile leaves an account without that workspace). */
async function joinInvited(deps: Deps, account: AccountDoc, token: string, meta: Meta): Promise<void> {
  try {
    const { ws, role } = await acceptInvitation(account, token);
    await recordAudit({ workspaceId: ws._id }, who(account, meta), {
      action: 'member.joined',
      target: account._id,
      details: { role, via: 'registration' },
    });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
  }
}

// ---- sign-in -----------------------------------------------------------------------------------

export type Factor = 'totp' | 'email';
export type LoginChallenge = { challengeToken: string; factors: Factor[]; expiresAt: Date };

const challengeIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

export async function login(deps: Deps, rawEmail: string, password: string, meta: Meta): Promise<LoginChallenge> {
  const email = normaliseEmail(rawEmail);
  await limitConsole(deps, 'login', { email, ip: meta.ip });
  const account = await findAccount(accountIdOf(email));
  const ok = await verifyOrBurn(account?.password_hash, password);
  if (!ok || !account) throw new DomainError('INVALID_CREDENTIALS', 'Wrong address or password.');
  if (account.status !== 'active') {
    await sendRegistrationCode(deps, account._id, email, (account.locale as Locale) ?? 'fr', false).catch(() => undefined);
    throw new DomainError('FORBIDDEN', 'Verify your address first: enter the code we emailed you (a new one is on its way).');
  }
  if (needsRehash(account.password_hash))
    await AccountModel.updateOne({ _id: account._id }, { $set: { password_hash: await hashPassword(password) } });
  const factors: Factor[] = account.totp_enabled_at ? ['totp'] : ['email'];
  const challengeToken = `chl_${randomBytes(32).toString('base64url')}`;
  await openChallenge(
    deps,
    'login',
    challengeIdOf(challengeToken),
    { account_id: account._id, factors: factors.join(',') },
    challengeTtl(deps),
  );
  return { challengeToken, factors, expiresAt: new Date(Date.now() + challengeTtl(deps) * 1000) };
}

async function loginChallenge(deps: Deps, token: string) {
  const id = challengeIdOf(token);
  const rec = await readChallenge(deps, 'login', id);
  if (!rec || rec.dead === '1')
    throw new DomainError('GONE', 'This sign-in is over (finished, too many wrong codes, or too old): sign in again.');
  const account = rec.account_id ? await findAccount(rec.account_id) : null;
  if (!account) throw new DomainError('GONE', 'This sign-in is over: sign in again.');
  return { id, rec, account, factors: (rec.factors ?? '').split(',') as Factor[] };
}

/** `email`: a code is mailed; `totp`: nothing to send, the app shows the code. */
export async function sendLoginCode(deps: Deps, token: string, factor: Factor, meta: Meta): Promise<Sent & { sent: boolean }> {
  const c = await loginChallenge(deps, token);
  await limitConsole(deps, 'code-send', { email: c.account.email, ip: meta.ip });
  if (!c.factors.includes(factor))
    throw new DomainError('CONFLICT', `The ${factor} factor is not available for this account; use ${c.factors.join(' or ')}.`);
  if (factor === 'totp') return { sent: false, expiresAt: new Date(Date.now() + challengeTtl(deps) * 1000) };
  const code = await issueCode(deps, 'login', c.id, c.rec);
  await queueMail(
    deps,
    { to: c.account.email, kind: 'login-code', locale: (c.account.locale as Locale) ?? 'fr', vars: { code, minutes: minutes(deps) } },
    codeTtl(deps),
  );
  return { sent: true, ...sent(deps, code) };
}

/**
 * Recovery codes. Current form (`r2`): 20 base32 characters (100 random bits) shown as
 * `xxxxx-xxxxx-xxxxx-xxxxx`; the first 4 characters name the code (stored in clear, to find it
 * without trying each) and the other 80 bits are the secret, stored as an argon2id hash
 * (platform/passwords.ts: ASVS 6.5.2, ≥ 64 bits, slow-hashed; no key to lose in a master-key
 * rotation). Stored as `r2:<id>:<argon2 hash>`. Codes made before (10 hex characters, 40 bits,
 * an unsalted SHA-256) still work until used or replaced by a new enrolment: taking them away
 * would lock out whoever kept them as their only way in.
 */
const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const normaliseRecovery = (code: string) => code.replace(/[\s-]+/g, '').toLowerCase();
export const recoveryHash = (code: string) =>
  createHash('sha256').update(`bloonio/console/recovery/${code.trim().toLowerCase()}`).digest('hex');
export async function storedRecovery(code: string): Promise<string> {
  const c = normaliseRecovery(code);
  return `r2:${c.slice(0, 4)}:${await hashPassword(c)}`;
}

/** A TOTP code works once: its time step is claimed for the account (RFC 6238 §5.2). */
async function totpMatches(deps: Deps, account: AccountDoc, code: string): Promise<boolean> {
  if (!account.totp_secret) return false;
  const step = checkTotp(open(deps.config.secretsMasterKey, account.totp_secret as Sealed, sealedFor.totpSecret(account._id)), code);
  if (step === null) return false;
  const claimed = await deps.redis.set(redisKey.consoleTotpUsed(deps.config.queuePrefix, account._id, step), '1', 'EX', 180, 'NX');
  return claimed === 'OK';
}

async function recoveryMatch(account: AccountDoc, code: string): Promise<string | null> {
  const c = normaliseRecovery(code);
  const stored = account.recovery_codes ?? [];
  if (/^[a-z2-7]{20}$/.test(c)) {
    const entry = stored.find((x) => x.startsWith(`r2:${c.slice(0, 4)}:`));
    // Unknown id: the same argon2 work as a known one.
    return (await verifyOrBurn(entry?.slice(8), c)) && entry ? entry : null;
  }
  const h = Buffer.from(recoveryHash(code), 'hex'); // a code of the earlier, 40-bit form
  for (const old of stored) {
    const s = Buffer.from(old, 'hex');
    if (!old.startsWith('r2:') && s.length === h.length && timingSafeEqual(s, h)) return old;
  }
  return null;
}

/** Spends a recovery code; false when it was spent meanwhile. */
const spendRecovery = async (accountId: string, hash: string) =>
  (await AccountModel.updateOne({ _id: accountId, recovery_codes: hash }, { $pull: { recovery_codes: hash } })).modifiedCount === 1;

/** Whether `code` is a valid second factor of the account: a TOTP code, or a recovery code (returned, to spend). */
export async function secondFactorMatches(
  deps: Deps,
  account: AccountDoc,
  code: string,
): Promise<{ ok: boolean; recovery: string | null }> {
  const c = code.replace(/\s+/g, '');
  if (/^\d{6}$/.test(c)) return { ok: await totpMatches(deps, account, c), recovery: null };
  const recovery = await recoveryMatch(account, c);
  return { ok: recovery !== null, recovery };
}

export async function verifyLoginCode(deps: Deps, token: string, otp: string, meta: Meta): Promise<Session> {
  const c = await loginChallenge(deps, token);
  await limitConsole(deps, 'code-check', { email: c.account.email, ip: meta.ip });
  const factor: Factor = c.factors.includes('totp') ? 'totp' : 'email';
  if (factor === 'email' && !c.rec.code_hash)
    throw new DomainError('CONFLICT', 'No code was sent for this sign-in yet: ask for one (get/login-otp).');
  const { ok, recovery } =
    factor === 'totp'
      ? await secondFactorMatches(deps, c.account, otp)
      : { ok: emailedCodeMatches(deps, 'login', c.id, c.rec, otp.trim()), recovery: null };
  await settle(deps, 'login', c.id, ok);
  if (recovery && !(await spendRecovery(c.account._id, recovery)))
    throw new DomainError('GONE', 'This recovery code was just used: sign in again.');
  const account = recovery ? ((await findAccount(c.account._id)) ?? c.account) : c.account;
  return signIn(deps, account, meta, 'account.signed_in', { factor: recovery ? 'recovery_code' : factor });
}

// ---- passwords ---------------------------------------------------------------------------------

/** Mails a reset code to an account's address, or a "no account here" note to an unknown one: the same answer and work. */
export async function requestPasswordReset(deps: Deps, rawEmail: string, locale: Locale, meta: Meta): Promise<Sent> {
  const email = normaliseEmail(rawEmail);
  await limitConsole(deps, 'reset', { email, ip: meta.ip });
  const account = await findAccount(accountIdOf(email));
  if (account?.status !== 'active') {
    // The same round trips as for an account (a decoy challenge nothing reads), then a "no account here" note.
    await openChallenge(deps, 'reset', `decoy:${accountIdOf(email)}`, { email }, challengeTtl(deps));
    await issueCode(deps, 'reset', `decoy:${accountIdOf(email)}`, { sends: '0' });
    await queueMail(deps, { to: email, kind: 'reset-unknown', locale, vars: {} }, 86_400);
    return sent(deps);
  }
  await openChallenge(deps, 'reset', account._id, { email }, challengeTtl(deps));
  const code = await issueCode(deps, 'reset', account._id, { sends: '0' });
  await queueMail(
    deps,
    { to: email, kind: 'reset-code', locale: (account.locale as Locale) ?? locale, vars: { code, minutes: minutes(deps) } },
    codeTtl(deps),
  );
  return sent(deps, code);
}

/** A new password from the emailed code; every session of the account ends (a TOTP account still needs its app to sign in). */
export async function resetPassword(deps: Deps, rawEmail: string, otp: string, newPassword: string, meta: Meta): Promise<void> {
  const email = normaliseEmail(rawEmail);
  await limitConsole(deps, 'code-check', { email, ip: meta.ip });
  const id = accountIdOf(email);
  const rec = await readChallenge(deps, 'reset', id);
  if (!rec) throw new DomainError('GONE', 'No reset is waiting for this address (or it is over): ask again.');
  await settle(deps, 'reset', id, emailedCodeMatches(deps, 'reset', id, rec, otp.trim()));
  const hash = await hashPassword(newPassword);
  const account = await AccountModel.findOneAndUpdate(
    { _id: id },
    { $set: { password_hash: hash, password_changed_at: new Date() } },
    { new: true },
  ).lean<AccountDoc>();
  if (!account) throw new DomainError('GONE', 'This account no longer exists.');
  const ended = await endAllSessions(deps, id);
  await recordAudit({ accountId: id }, who(account, meta), { action: 'account.password_reset', details: { sessions_ended: ended } });
}

export async function changePassword(
  deps: Deps,
  account: AccountDoc,
  sessionId: string,
  current: string,
  next: string,
  meta: Meta,
): Promise<number> {
  await limitConsole(deps, 'login', { email: account.email, ip: meta.ip });
  if (!(await verifyOrBurn(account.password_hash, current))) throw new DomainError('INVALID_CREDENTIALS', 'The current password is wrong.');
  await AccountModel.updateOne(
    { _id: account._id },
    { $set: { password_hash: await hashPassword(next), password_changed_at: new Date() } },
  );
  const ended = await endAllSessions(deps, account._id, sessionId);
  await recordAudit({ accountId: account._id }, who(account, meta), {
    action: 'account.password_changed',
    details: { other_sessions_ended: ended },
  });
  return ended;
}

/**
 * Step-up: the password, or (for an account with an authenticator app) a TOTP or recovery code,
 * marks the session as recently authenticated (sensitive routes need it: api/route.ts
 * `consoleStepUp`). Limited like a sign-in; a wrong answer is 401 and changes nothing.
 */
export async function reauthenticate(
  deps: Deps,
  account: AccountDoc,
  sessionId: string,
  proof: { password?: string | undefined; code?: string | undefined },
  meta: Meta,
): Promise<Date> {
  await limitConsole(deps, 'login', { email: account.email, ip: meta.ip });
  let factor: string;
  if (proof.password !== undefined) {
    if (!(await verifyOrBurn(account.password_hash, proof.password)))
      throw new DomainError('INVALID_CREDENTIALS', 'The password is wrong.');
    factor = 'password';
  } else {
    if (!account.totp_enabled_at) throw new DomainError('CONFLICT', 'This account has no authenticator app: give the password.');
    const { ok, recovery } = await secondFactorMatches(deps, account, proof.code ?? '');
    if (!ok) throw new DomainError('INVALID_CODE', 'Wrong code.');
    if (recovery && !(await spendRecovery(account._id, recovery)))
      throw new DomainError('INVALID_CODE', 'This recovery code was just used.');
    factor = recovery ? 'recovery_code' : 'totp';
  }
  if (!(await markAuthenticated(deps, account._id, sessionId)))
    throw new DomainError('INVALID_TOKEN', 'This console session has ended; sign in again.');
  await recordAudit({ accountId: account._id }, who(account, meta), {
    action: 'account.reauthenticated',
    target: sessionId,
    details: { factor },
  });
  return new Date(Date.now() + deps.config.consoleStepUpSeconds * 1000);
}

// ---- TOTP enrolment ----------------------------------------------------------------------------

export const RECOVERY_CODES = 10;
const newRecoveryCode = () => {
  const raw = [...randomBytes(20)].map((b) => RECOVERY_ALPHABET[b & 31]).join(''); // 5 bits from each byte: 100 bits
  return raw.match(/.{5}/g)?.join('-') ?? raw;
};

/** A new secret waiting for its first code (CONSOLE_CODE_TTL_SECONDS); the caller shows it once. */
export async function startTotpEnrolment(deps: Deps, account: AccountDoc): Promise<{ secret: string; expiresAt: Date }> {
  if (account.totp_enabled_at)
    throw new DomainError('CONFLICT', 'TOTP is already on for this account: remove it first to enrol a new app.');
  const secret = newTotpSecret();
  await openChallenge(
    deps,
    'totp',
    account._id,
    { secret: JSON.stringify(seal(deps.config.secretsMasterKey, secret, sealedFor.totpSecret(account._id))) },
    codeTtl(deps),
  );
  return { secret, expiresAt: new Date(Date.now() + codeTtl(deps) * 1000) };
}

/** The first code from the app turns TOTP on; returns the recovery codes (shown once). Other sessions end. */
export async function confirmTotpEnrolment(
  deps: Deps,
  account: AccountDoc,
  sessionId: string,
  code: string,
  meta: Meta,
): Promise<string[]> {
  await limitConsole(deps, 'code-check', { email: account.email, ip: meta.ip });
  const rec = await readChallenge(deps, 'totp', account._id);
  if (!rec?.secret) throw new DomainError('GONE', 'No TOTP enrolment is waiting (or it expired): start again.');
  const sealed = JSON.parse(rec.secret) as Sealed;
  const step = checkTotp(open(deps.config.secretsMasterKey, sealed, sealedFor.totpSecret(account._id)), code.replace(/\s+/g, ''));
  await settle(deps, 'totp', account._id, step !== null);
  if (step !== null) await deps.redis.set(redisKey.consoleTotpUsed(deps.config.queuePrefix, account._id, step), '1', 'EX', 180);
  let codes: string[];
  do codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  while (new Set(codes.map((c) => c.slice(0, 4))).size < RECOVERY_CODES); // each code's id names one code
  const stored = await Promise.all(codes.map(storedRecovery));
  const r = await AccountModel.updateOne(
    { _id: account._id, totp_enabled_at: null },
    { $set: { totp_secret: sealed, totp_enabled_at: new Date(), recovery_codes: stored } },
  );
  if (r.modifiedCount !== 1) throw new DomainError('CONFLICT', 'TOTP is already on for this account.');
  const ended = await endAllSessions(deps, account._id, sessionId);
  await recordAudit({ accountId: account._id }, who(account, meta), {
    action: 'account.totp_enabled',
    details: { other_sessions_ended: ended },
  });
  return codes;
}

/** Turning TOTP off takes the password and a current code (or a recovery code). */
export async function removeTotp(deps: Deps, account: AccountDoc, password: string, code: string, meta: Meta): Promise<void> {
  await limitConsole(deps, 'code-check', { email: account.email, ip: meta.ip });
  if (!account.totp_enabled_at) throw new DomainError('CONFLICT', 'TOTP is not on for this account.');
  if (!(await verifyOrBurn(account.password_hash, password))) throw new DomainError('INVALID_CREDENTIALS', 'The password is wrong.');
  const { ok, recovery } = await secondFactorMatches(deps, account, code);
  if (!ok) throw new DomainError('INVALID_CODE', 'Wrong code.');
  if (recovery && !(await spendRecovery(account._id, recovery))) throw new DomainError('INVALID_CODE', 'This recovery code was just used.');
  await AccountModel.updateOne({ _id: account._id }, { $set: { totp_secret: null, totp_enabled_at: null, recovery_codes: [] } });
  await recordAudit({ accountId: account._id }, who(account, meta), { action: 'account.totp_removed' });
}

export { who as auditWho };
