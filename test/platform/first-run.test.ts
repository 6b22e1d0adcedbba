/**
 * The first run, as a newcomer follows the README (issue 9, defect 8): the install step leaves the
 * tracked lock as it is, the README points only at what ships, its admin curl works as written, and
 * the shipped receiver (`npm run receiver`) verifies and prints the first signed callback.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyCallback } from '../../scripts/receiver.js';
import { signedHeaders as platformHeaders } from '../../platform/signing.js';
import { provision, signed } from '../support/client.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('first run: what a newcomer meets', function () {
  this.timeout(60_000);

  it('the committed package-lock.json is exactly what npm writes for package.json (so installing never rewrites it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bloonio-lock-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
      execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        stdio: 'pipe',
      });
      assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // And the install step itself never writes the lock.
    assert.match(readFileSync(join(ROOT, 'scripts/ensure-deps.sh'), 'utf8'), /npm install --no-save /);
  });

  it('the README points only at what is in the repository, and says what npm start sets for local development', () => {
    assert.ok(!README.includes('../shared'), 'no link outside the repository');
    assert.match(README, /\/docs/);
    assert.match(README, /CALLBACK_ALLOW_PRIVATE_NETWORKS=true/);
    assert.match(README, /npm run receiver/);
    assert.ok(!/> demo\.env/.test(README), 'the demo writes its secret under .data/');
    // Its admin curl takes the key from the file npm start writes, not from an unset variable.
    const curl = README.split('\n').find((l) => l.includes('curl') && l.includes('X-Admin-Key'));
    assert.ok(curl, 'an admin curl example');
    assert.match(README, /set -a; \. \.data\/local\.env; set \+a/);
  });

  it('git ignores the demo files (tenant secret, device private key)', () => {
    for (const f of ['demo.env', '.bloonio-device.json', '.data/demo.env', '.data/device.json']) {
      execFileSync('git', ['check-ignore', '-q', f], { cwd: ROOT }); // throws when not ignored
    }
  });

  it('the receiver’s check refuses a wrong secret, a stale timestamp and a missing header, and flags a retry', () => {
    const raw = Buffer.from('{"event_id":"evt_1","data":{}}');
    const seen = new Set<string>();
    const h = (secret: string, now = Date.now()) => {
      const x = platformHeaders('tnt_x', secret, raw, now);
      return {
        'x-bloonio-tenant-id': x['X-Bloonio-Tenant-Id'],
        'x-bloonio-timestamp': x['X-Bloonio-Timestamp'],
        'x-bloonio-signature': x['X-Bloonio-Signature'],
        'x-bloonio-event-id': 'evt_1',
      };
    };
    assert.deepEqual(verifyCallback('sk_a', h('sk_b'), raw, seen), { ok: false, reason: 'invalid signature (wrong tenant secret?)' });
    assert.equal(verifyCallback('sk_a', h('sk_a', Date.now() - 60_000), raw, seen).ok, false);
    assert.equal(verifyCallback('sk_a', { 'x-bloonio-tenant-id': 't' }, raw, seen).ok, false);
    assert.deepEqual(verifyCallback('sk_a', h('sk_a'), raw, seen), { ok: true, eventId: 'evt_1', eventType: '', duplicate: false });
    assert.equal((verifyCallback('sk_a', h('sk_a'), raw, seen) as { duplicate: boolean }).duplicate, true);
  });

  describe('npm run receiver with a running relay', () => {
    let relay: Relay;
    before(async () => {
      relay = await startRelay('firstrun');
      await relay.startWorker();
    });
    after(async () => relay.stop());

    it('prints the first signed callback, verified', async () => {
      const srv = net.createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const port = (srv.address() as net.AddressInfo).port;
      await new Promise((r) => srv.close(r));
      const creds = await provision(relay.baseUrl, { callback_url_base: `http://127.0.0.1:${port}` });
      const proc = spawn('npm', ['run', '-s', 'receiver', '--', '--port', String(port), '--secret', creds.secret], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await eventually(async () => out.includes('receiver: verifying callbacks'), 20_000);
        const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', { note: 'hello' });
        assert.equal(r.status, 202);
        await eventually(async () => out.includes(`✔ verified platform.test ${r.body.data.event_id} at /relay-callbacks/test`), 15_000);
        assert.match(out, /"note":"hello"/);
        // A forged call is refused.
        const forged = await fetch(`http://127.0.0.1:${port}/relay-callbacks/test`, {
          method: 'POST',
          headers: { ...platformHeaders(creds.tenantId, 'sk_wrong', '{}'), 'content-type': 'application/json' },
          body: '{}',
        });
        assert.equal(forged.status, 401);
        await eventually(async () => out.includes('✘ refused'), 5000);
      } finally {
        proc.kill('SIGTERM');
      }
    });
  });
});
