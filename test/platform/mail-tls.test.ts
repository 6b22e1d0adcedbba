/**
 * Console mail is never sent in the clear to a remote SMTP server (issue 20, "smtp:// without
 * requireTLS"): an `smtp://` URL must upgrade with STARTTLS, except on loopback (a development
 * server, like test/fakes/smtp-server.ts) or when the URL says `requireTLS=false` on purpose.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { SMTPServer } from 'smtp-server';
import { createMailer, smtpTransportOptions } from '../../platform/mailer.js';

/** This machine's first non-loopback IPv4 address: a "remote" server the test can still reach. */
const outsideAddress = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

describe('platform: SMTP transport security', function () {
  this.timeout(30_000);

  it('smtp:// requires STARTTLS except on loopback or when the URL says otherwise', () => {
    assert.equal(smtpTransportOptions('smtp://u:p@mail.example.com:587').requireTLS, true);
    assert.equal(smtpTransportOptions('smtp://u:p@203.0.113.5:25').requireTLS, true);
    assert.equal(smtpTransportOptions('smtp://u:p@127.0.0.1:2525').requireTLS, false);
    assert.equal(smtpTransportOptions('smtp://u:p@localhost:2525').requireTLS, false);
    assert.equal(smtpTransportOptions('smtp://u:p@[::1]:2525').requireTLS, false);
    assert.equal(smtpTransportOptions('smtps://u:p@mail.example.com').requireTLS, false, 'TLS from the first byte');
  });

  describe('against a server that offers no STARTTLS', () => {
    const mails: string[] = [];
    let server: SMTPServer;
    let port = 0;
    before(async function () {
      if (!outsideAddress()) this.skip(); // no interface but loopback: nothing "remote" to reach
      server = new SMTPServer({
        secure: false,
        disabledCommands: ['STARTTLS', 'AUTH'],
        authOptional: true,
        logger: false,
        onData: (stream, session, cb) => {
          stream.resume();
          stream.on('end', () => {
            mails.push(session.envelope.rcptTo.map((r) => r.address).join(','));
            cb();
          });
        },
      });
      await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
      port = (server.server as unknown as { address(): AddressInfo }).address().port;
    });
    after(async () => server && new Promise<void>((r) => server.close(() => r())));

    it('refuses to send a remote server mail in the clear, and sends when the URL allows it', async () => {
      const host = outsideAddress();
      const mail = { to: 'someone@example.com', subject: 'Your code', text: '123456' };
      const strict = createMailer({ smtpUrl: `smtp://${host}:${port}`, mailFrom: 'relay@example.com' });
      try {
        await assert.rejects(strict.send(mail), /STARTTLS|TLS/i);
      } finally {
        strict.close();
      }
      assert.deepEqual(mails, [], 'nothing was sent in the clear');
      const lax = createMailer({ smtpUrl: `smtp://${host}:${port}?requireTLS=false`, mailFrom: 'relay@example.com' });
      try {
        await lax.send(mail);
      } finally {
        lax.close();
      }
      assert.deepEqual(mails, ['someone@example.com'], 'the operator opted out in the URL');
    });
  });
});
