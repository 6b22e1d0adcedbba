/**
 * Outgoing mail through nodemailer (a maintained SMTP client: STARTTLS, auth, pooling). One
 * transport per worker process, from SMTP_URL (`smtp://user:pass@host:port`, which must upgrade
 * with STARTTLS unless on loopback, or `smtps://…` for TLS from the first byte). Without SMTP_URL nothing is sent: `configured` is false and the console says
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

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/**
 * nodemailer's options for SMTP_URL. Console mail carries sign-in codes and invitation links, so an
 * `smtp://` server must upgrade with STARTTLS (requireTLS): nodemailer's default would carry on in
 * the clear when a server, or a man in the middle stripping its STARTTLS offer, does not offer it.
 * A loopback server (a development relay) is exempt, and the URL can still say `?requireTLS=false`
 * on purpose: nodemailer lets options in the URL win over these.
 */
export function smtpTransportOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  return {
    url: smtpUrl,
    requireTLS: url.protocol === 'smtp:' && !LOOPBACK_HOSTS.test(url.hostname),
    // Bounded waits: a dead SMTP server fails the job (retried with backoff), never holds a worker slot for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom'>): Mailer {
  if (!config.smtpUrl) {
    return {
      configured: false,
      send: () => Promise.reject(new Error('SMTP_URL is not set: no mail can be sent')),
      close: () => undefined,
    };
  }
  const transport: Transporter = nodemailer.createTransport(smtpTransportOptions(config.smtpUrl));
  return {
    configured: true,
    send: async (mail) => {
      await transport.sendMail({ from: config.mailFrom, ...mail });
    },
    close: () => transport.close(),
  };
}
