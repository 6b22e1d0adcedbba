/**
 * A local SMTP server for tests (the `smtp-server` package: real SMTP on a real socket, the protocol
 * nodemailer speaks to any provider), with a mailbox the test reads: every message is parsed
 * (`mailparser`) and kept. Authentication is required (the URL carries the user and password, as a
 * provider's would); TLS is off on loopback.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = { to: string[]; from: string; subject: string; text: string; html: string };

export class FakeSmtp {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer;
  private port = 0;

  constructor(
    private readonly user = 'relay',
    private readonly pass = 'smtp-test-password',
  ) {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: false,
      logger: false,
      onAuth: (auth, _session, cb) =>
        auth.username === this.user && auth.password === this.pass ? cb(null, { user: auth.username }) : cb(new Error('bad credentials')),
      onData: (stream, session, cb) => {
        simpleParser(stream)
          .then((m) => {
            this.mails.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: m.subject ?? '',
              text: m.text ?? '',
              html: typeof m.html === 'string' ? m.html : '',
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server as unknown as { address(): AddressInfo }).address().port;
    return this;
  }

  get url(): string {
    return `smtp://${this.user}:${this.pass}@127.0.0.1:${this.port}`;
  }

  /** Mails to `address`, oldest first. */
  to(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address.toLowerCase()));
  }

  /** Waits for the n-th mail to `address` (1-based) matching `subject`, and returns it. */
  async waitFor(address: string, opts: { subject?: RegExp; count?: number; ms?: number } = {}): Promise<ReceivedMail> {
    const until = Date.now() + (opts.ms ?? 10_000);
    for (;;) {
      const list = this.to(address).filter((m) => !opts.subject || opts.subject.test(m.subject));
      const m = list[(opts.count ?? 1) - 1];
      if (m) return m;
      if (Date.now() > until)
        throw new Error(`no mail #${opts.count ?? 1} to ${address} ${opts.subject ?? ''} within ${opts.ms ?? 10_000} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The 6-digit code in the latest mail to `address` matching `subject` (waiting for mail number `count`). */
  async code(address: string, opts: { subject?: RegExp; count?: number } = {}): Promise<string> {
    const m = await this.waitFor(address, opts);
    const code = /\b(\d{6})\b/.exec(m.text)?.[1];
    if (!code) throw new Error(`no code in mail "${m.subject}"`);
    return code;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
