/**
 * Sends one console mail (the `console.mail` job): opens the sealed mail its id names
 * (models/console/mail.ts), renders it (models/console/mail-templates.ts) and hands it to SMTP
 * (platform/mailer.ts). A failed send throws: BullMQ retries with backoff while the mail's key lives.
 * Without SMTP_URL the mail is dropped with a warning that names its kind, never its address or code.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';
import { mailSent, takeMail } from '../../models/console/mail.js';
import { renderMail } from '../../models/console/mail-templates.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';

export type MailDeps = { config: Config; logger: Logger; redis: Redis; mailer: Mailer };

export function createMailProcessor(deps: MailDeps) {
  return async (_job: unknown, _token: string | undefined, p: JobPayload<'console.mail'>): Promise<JobOutcome<'console.mail'>> => {
    const mail = await takeMail(deps, p.mailId);
    if (!mail) return 'expired';
    if (!deps.mailer.configured) {
      deps.logger.warn({ mail_id: p.mailId, kind: mail.kind }, 'console mail not sent: SMTP_URL is not set');
      await mailSent(deps, p.mailId);
      return 'skipped';
    }
    await deps.mailer.send(renderMail(mail.kind, mail.locale, mail.to, mail.vars));
    await mailSent(deps, p.mailId);
    return 'sent';
  };
}
