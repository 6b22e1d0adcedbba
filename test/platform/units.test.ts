/** Unit checks of the platform's building blocks, against fixed vectors a reviewer can recompute. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { parseRetryAfter } from '../../platform/outbound-http.js';
import { ConfigError, parseConfig } from '../../platform/config.js';
import { newId } from '../../platform/ids.js';
import { isCurrent, open, parseKeyRing, seal, sealedFor } from '../../platform/secret-box.js';
import { sign, signatureMatches } from '../../platform/signing.js';
import { isPublicAddress } from '../../platform/ssrf.js';

/** What the secret-box tests seal: tenant A's signing secret. */
const A = sealedFor.tenantSecret('tnt_aaaaaaaaaaaaaaaaaaaaaaaa');

const BASE_ENV = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/x',
  ADMIN_API_KEY: 'a-long-enough-admin-key-000000',
  SECRETS_MASTER_KEY: '00'.repeat(32),
};

describe('platform units', () => {
  describe('HMAC #1 signing', () => {
    it('matches the seed recipe computed by Python', () => {
      const body = '{"user_socket_hash":"9f86d081884c7d659a2feaa0c55ad015","display_name":"Example"}';
      const py = execFileSync(
        'python3',
        [
          '-c',
          'import hashlib,hmac,sys; b=sys.argv[3].encode(); print(hmac.new(sys.argv[1].encode(), f"{sys.argv[2]}.{hashlib.sha256(b).hexdigest()}".encode(), hashlib.sha256).hexdigest())',
          'sk_test',
          '1718966400000',
          body,
        ],
        { encoding: 'utf8' },
      ).trim();
      assert.equal(sign('sk_test', '1718966400000', body), py);
      assert.equal(sign('sk_test', 1718966400000, Buffer.from(body)), py);
    });
    it('signs the empty string for a body-less request', () => {
      assert.equal(sign('s', 1, ''), sign('s', 1, Buffer.alloc(0)));
    });
    it('compares only well-formed lowercase hex, in constant time', () => {
      const good = sign('s', 1, 'x');
      assert.ok(signatureMatches(good, good));
      assert.ok(!signatureMatches(good, good.slice(0, 63)));
      assert.ok(!signatureMatches(good, good.toUpperCase()));
      assert.ok(!signatureMatches(good, 'zz'.repeat(32)));
    });
  });

  describe('secrets at rest', () => {
    it('seals with the current key and still opens with a rotated-out key', () => {
      const k1 = randomBytes(32).toString('hex');
      const k2 = randomBytes(32).toString('base64');
      const before = parseKeyRing(`k1:${k1}`);
      const sealed = seal(before, 'sk_secret', A);
      assert.equal(sealed.kid, 'k1');
      assert.ok(!JSON.stringify(sealed).includes('sk_secret'));
      const after = parseKeyRing(`k2:${k2},k1:${k1}`);
      assert.equal(open(after, sealed, A), 'sk_secret');
      assert.equal(seal(after, 'x', A).kid, 'k2');
    });
    it('refuses a tampered ciphertext or a relabelled key id', () => {
      const ring = parseKeyRing(`a:${'11'.repeat(32)},b:${'22'.repeat(32)}`);
      const sealed = seal(ring, 'secret', A);
      assert.throws(() => open(ring, { ...sealed, ct: Buffer.from('other').toString('base64') }, A));
      assert.throws(() => open(ring, { ...sealed, kid: 'b' }, A));
    });
    it('binds a ciphertext to its record and field: copied elsewhere it does not open', () => {
      const ring = parseKeyRing(`a:${'11'.repeat(32)}`);
      const sealed = seal(ring, 'sk_of_tenant_a', A);
      assert.throws(() => open(ring, sealed, sealedFor.tenantSecret('tnt_bbbbbbbbbbbbbbbbbbbbbbbb')), /unable to authenticate|auth/i);
      assert.throws(() => open(ring, sealed, sealedFor.totpSecret('acc_1')), /unable to authenticate|auth/i);
      assert.throws(() => open(ring, { ...sealed, v: undefined }, A), 'nor passes for the old format');
      assert.equal(open(ring, sealed, A), 'sk_of_tenant_a');
    });
    it('still opens a v1 value (bound to its key id only), which is not current until re-sealed', () => {
      const key = Buffer.from('11'.repeat(32), 'hex');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from('a'));
      const ct = Buffer.concat([cipher.update('sk_legacy', 'utf8'), cipher.final()]);
      const v1 = { kid: 'a', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
      const ring = parseKeyRing(`a:${'11'.repeat(32)}`);
      assert.equal(open(ring, v1, A), 'sk_legacy');
      assert.equal(isCurrent(ring, v1), false);
      assert.equal(isCurrent(ring, seal(ring, 'x', A)), true);
    });
  });

  describe('configuration', () => {
    it('parses the operator contract with defaults', () => {
      const c = parseConfig({ ...BASE_ENV, ADMIN_API_KEY: 'a-long-enough-admin-key-000000, second-admin-key-rotation-00000' });
      assert.equal(c.port, 3000);
      assert.equal(c.adminApiKeys.length, 2);
      assert.equal(c.callbackAllowPrivateNetworks, false);
      assert.deepEqual(c.callbackRetryScheduleMs.slice(0, 4), [0, 5000, 300_000, 1_800_000]);
      assert.equal(c.callbackRetryScheduleMs.length, 10);
    });
    it('stops with one line naming each bad setting and why', () => {
      const { REDIS_URL: _r, ...noRedis } = BASE_ENV;
      assert.throws(
        () => parseConfig({ ...noRedis, PORT: 'eighty', SECRETS_MASTER_KEY: 'short' }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.ok(!err.message.includes('\n'), 'one line');
          assert.match(err.message, /REDIS_URL is required but not set/);
          assert.match(err.message, /PORT must be a whole number/);
          assert.match(err.message, /SECRETS_MASTER_KEY each master key must be 32 bytes/);
          return true;
        },
      );
    });
    it('the real entry point prints that line and exits non-zero', () => {
      try {
        execFileSync(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
          env: { PATH: process.env.PATH ?? '' },
          stdio: 'pipe',
          encoding: 'utf8',
        });
        assert.fail('should exit');
      } catch (err) {
        const e = err as { status: number; stderr: string };
        assert.equal(e.status, 78);
        assert.match(e.stderr, /^bloonio-relay: invalid configuration: REDIS_URL is required but not set; .*ADMIN_API_KEY is required/);
        assert.equal(e.stderr.trim().split('\n').length, 1);
      }
    });
  });

  describe('SSRF address classes', () => {
    for (const addr of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      '224.0.0.1',
    ]) {
      it(`refuses ${addr}`, () => assert.equal(isPublicAddress(addr), false));
    }
    for (const addr of ['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8']) {
      it(`allows ${addr}`, () => assert.equal(isPublicAddress(addr), true));
    }
  });

  describe('small parts', () => {
    it('ids are prefixed and sort by creation time', async () => {
      const a = newId('evt');
      await new Promise((r) => setTimeout(r, 2));
      const b = newId('evt');
      assert.match(a, /^evt_[0-9a-z]{26}$/);
      assert.ok(a < b);
    });
    it('Retry-After as seconds or HTTP date', () => {
      assert.equal(parseRetryAfter('120'), 120_000);
      const d = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString()) ?? 0;
      assert.ok(d > 8000 && d <= 10_000);
      assert.equal(parseRetryAfter('soon'), null);
      assert.equal(parseRetryAfter(undefined), null);
    });
  });
});
