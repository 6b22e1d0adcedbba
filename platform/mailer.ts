/**
 * Outgoing mail through nodemailer (a maintained SMTP client: STARTTLS, auth, pooling). One
 * transport per worker process, from SMTP_URL (`smtp://user:pass@host:port`, `smtps://…` for TLS
 * from the first byte). Without SMTP_URL nothing is sent: `configured` is false and the console says
 * so at start. Only the worker sends mail (workers/console/mail.ts); the API enqueues.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from './config.js';

export type Mail = { to: string; subject: string; text: string; html?: string };

export type Mailer = {
  configured: boolean;
  send: (mail: Mail) => Promise<void>;
  close: () => void;
};

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom'>): Mailer {
  if (!config.smtpUrl) {
    return {
      configured: false,
      send: () => Promise.reject(new Error('SMTP_URL is not set: no mail can be sent')),
      close: () => undefined,
    };
  }
  // Bounded waits: a dead SMTP server fails the job (retried with backoff), never holds a worker slot for minutes.
  const transport: Transporter = nodemailer.createTransport({
    url: config.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    configured: true,
    send: async (mail) => {
      await transport.sendMail({ from: config.mailFrom, ...mail });
    },
    close: () => transport.close(),
  };
}
