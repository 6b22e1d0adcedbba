/**
 * Console sessions. A console token (platform/tokens.ts, purpose `console`, kind `tenant_admin`,
 * CONSOLE_SESSION_TTL_SECONDS ~7 days) names its account and session; the token counts only while
 * the session's record lives in Redis (api/principals/console.ts), so a session ends at once when
 * its record is deleted: at logout, revocation, a password change or reset (every other session of
 * the account), and when the account is removed from a workspace (all its sessions: whatever the
 * removed person had loaded must go).
 *
 * Records: `consoleSession(sid)` = JSON {account_id, created_at, ip, user_agent, auth_at}, and the
 * account's set of session ids `consoleAccountSessions(account)`.
 *
 * Idle timeout: the record's TTL is CONSOLE_IDLE_TIMEOUT_SECONDS, pushed back by every use (one
 * GETEX: the read and the refresh are one command), so a session nobody uses ends on its own while
 * the token's own expiry (CONSOLE_SESSION_TTL_SECONDS) stays the absolute limit.
 *
 * Recent authentication (`auth_at`, ms): set when the session starts (a sign-in is an
 * authentication) and by re-authentication (password or TOTP); sensitive routes need it recent
 * (`consoleStepUp` in the route table, api/route.ts).
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';
import { mintToken } from '../../platform/tokens.js';

type Deps = { config: Config; redis: Redis };
export type SessionMeta = { ip: string; userAgent: string | null };
export type SessionRecord = { account_id: string; created_at: string; ip: string; user_agent: string | null; auth_at?: number };

/** The record lives as long as the session may stay idle (and never beyond the token's lifetime when it starts). */
const idleTtl = (config: Config) => Math.min(config.consoleIdleTimeoutSeconds, config.consoleSessionTtlSeconds);

export async function startSession(
  deps: Deps,
  accountId: string,
  meta: SessionMeta,
): Promise<{ token: string; expiresAt: Date; sessionId: string }> {
  const ttl = deps.config.consoleSessionTtlSeconds;
  const sessionId = newId('cs');
  const { token, expiresAt } = mintToken(
    deps.config.secretsMasterKey,
    'console',
    { kind: 'tenant_admin', sub: accountId, sid: sessionId },
    ttl,
  );
  const rec: SessionRecord = {
    account_id: accountId,
    created_at: new Date().toISOString(),
    ip: meta.ip,
    user_agent: meta.userAgent?.slice(0, 300) ?? null,
    auth_at: Date.now(),
  };
  const p = deps.config.queuePrefix;
  const set = redisKey.consoleAccountSessions(p, accountId);
  await deps.redis
    .multi()
    .set(redisKey.consoleSession(p, sessionId), JSON.stringify(rec), 'EX', idleTtl(deps.config))
    .sadd(set, sessionId)
    .expire(set, ttl)
    .exec();
  return { token, expiresAt, sessionId };
}

export async function readSession(deps: Deps, sessionId: string): Promise<SessionRecord | null> {
  const raw = await deps.redis.get(redisKey.consoleSession(deps.config.queuePrefix, sessionId));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as SessionRecord;
  } catch {
    return null;
  }
}

/** Reads a session for a request and pushes its idle deadline back (null once it ended or sat idle too long). */
export async function touchSession(deps: Deps, sessionId: string): Promise<SessionRecord | null> {
  const raw = await deps.redis.getex(redisKey.consoleSession(deps.config.queuePrefix, sessionId), 'EX', idleTtl(deps.config));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as SessionRecord;
  } catch {
    return null;
  }
}

/** Re-authentication: the session counts as recently authenticated from now (false when it already ended). */
export async function markAuthenticated(deps: Deps, accountId: string, sessionId: string): Promise<boolean> {
  const k = redisKey.consoleSession(deps.config.queuePrefix, sessionId);
  const rec = await readSession(deps, sessionId);
  if (!rec || rec.account_id !== accountId) return false;
  // XX: never revive a session that ended meanwhile; the idle deadline starts again, as for any use.
  return (await deps.redis.set(k, JSON.stringify({ ...rec, auth_at: Date.now() }), 'EX', idleTtl(deps.config), 'XX')) === 'OK';
}

/** Whether the session's last password or TOTP is within CONSOLE_STEP_UP_SECONDS. */
export const recentlyAuthenticated = (config: Config, rec: Pick<SessionRecord, 'auth_at'>, now = Date.now()): boolean =>
  typeof rec.auth_at === 'number' && now - rec.auth_at <= config.consoleStepUpSeconds * 1000;

/** The account's live sessions (ids whose record expired are dropped from the set on the way). */
export async function listSessions(deps: Deps, accountId: string): Promise<(SessionRecord & { session_id: string })[]> {
  const p = deps.config.queuePrefix;
  const set = redisKey.consoleAccountSessions(p, accountId);
  const ids = await deps.redis.smembers(set);
  if (!ids.length) return [];
  const raws = await deps.redis.mget(...ids.map((id) => redisKey.consoleSession(p, id)));
  const out: (SessionRecord & { session_id: string })[] = [];
  const gone: string[] = [];
  raws.forEach((raw, i) => {
    const id = ids[i] as string;
    if (!raw) return void gone.push(id);
    out.push({ ...(JSON.parse(raw) as SessionRecord), session_id: id });
  });
  if (gone.length) await deps.redis.srem(set, ...gone);
  return out.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** Ends one session of the account; false when it was not the account's (or already over). */
export async function endSession(deps: Deps, accountId: string, sessionId: string): Promise<boolean> {
  const p = deps.config.queuePrefix;
  const rec = await readSession(deps, sessionId);
  if (!rec || rec.account_id !== accountId) return false;
  await deps.redis.multi().del(redisKey.consoleSession(p, sessionId)).srem(redisKey.consoleAccountSessions(p, accountId), sessionId).exec();
  return true;
}

/** Ends every session of the account but `keep`; returns how many ended. */
export async function endAllSessions(deps: Deps, accountId: string, keep?: string): Promise<number> {
  const p = deps.config.queuePrefix;
  const set = redisKey.consoleAccountSessions(p, accountId);
  const ids = (await deps.redis.smembers(set)).filter((id) => id !== keep);
  if (!ids.length) return 0;
  await deps.redis
    .multi()
    .del(...ids.map((id) => redisKey.consoleSession(p, id)))
    .srem(set, ...ids)
    .exec();
  return ids.length;
}
