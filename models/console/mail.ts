/**
 * Console mail, sent by the worker (`console.mail` job, workers/console/mail.ts), never inline.
 *
 * What crosses the queue: a job carries only a mail id. The mail itself — the address, the template
 * and its values, which may be a one-time code or an invitation link — is sealed (AES-256-GCM under
 * the master key, platform/secret-box.ts) into a Redis key `consoleMail(id)` that lives only as long
 * as what it carries is useful (a code's lifetime, a day for an invitation). The worker opens it,
 * sends it and deletes it; a retried job sends it again while the key lives; a job that runs after it
 * expired sends nothing (the code is dead anyway). So no code or link is ever in a job payload, a
 * job's retained data, a log line or MongoDB: the database keeps only hashes.
 *
 * Local development without SMTP (RELAY_DEV_PAGES=true and no SMTP_URL): `exposeCodes` is true and
 * the API answers the code (`dev_otp`) or link (`dev_invite_url`) itself; never otherwise.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';
import { open, seal, sealedFor, type Sealed } from '../../platform/secret-box.js';
import type { Producer } from '../../queues/producer.js';
import type { MailKind, MailVars } from './mail-templates.js';

export type QueuedMail = { to: string; kind: MailKind; locale: 'fr' | 'en'; vars: MailVars };
type Deps = { config: Config; redis: Redis; producer: Producer };

export const exposeCodes = (config: Config): boolean => config.devPages && !config.smtpUrl;

export async function queueMail(deps: Deps, mail: QueuedMail, ttlS: number): Promise<void> {
  const mailId = newId('ml');
  const sealed = seal(deps.config.secretsMasterKey, JSON.stringify(mail), sealedFor.consoleMail(mailId));
  await deps.redis.set(redisKey.consoleMail(deps.config.queuePrefix, mailId), JSON.stringify(sealed), 'EX', ttlS);
  await deps.producer.enqueue('console.mail', { mailId });
}

/** The mail waiting under `mailId`, or null once it was sent or expired. */
export async function takeMail(deps: { config: Config; redis: Redis }, mailId: string): Promise<QueuedMail | null> {
  const raw = await deps.redis.get(redisKey.consoleMail(deps.config.queuePrefix, mailId));
  if (!raw) return null;
  return JSON.parse(open(deps.config.secretsMasterKey, JSON.parse(raw) as Sealed, sealedFor.consoleMail(mailId))) as QueuedMail;
}

export async function mailSent(deps: { config: Config; redis: Redis }, mailId: string): Promise<void> {
  await deps.redis.del(redisKey.consoleMail(deps.config.queuePrefix, mailId));
}
