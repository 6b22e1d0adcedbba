/**
 * The reference device (scripts/device.ts) run as a separate process, the way the demo in docs/auth-relay.md
 * uses it: pair from a proof, keep the key in a state file, poll, show, approve / deny, unpair.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { challengeBody, newUserHash, prepareProof, startReceiver } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('auth relay: the reference device CLI', function () {
  this.timeout(60_000);
  let relay: Relay;
  let creds: TenantCreds;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dir: string;

  before(async () => {
    relay = await startRelay('auth_cli');
    await relay.startWorker();
    receiver = await startReceiver();
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, callback_url_base: receiver.url });
    receiver.setSecret(creds.secret);
    dir = mkdtempSync(join(tmpdir(), 'bloonio-device-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await receiver?.close();
    await relay?.stop();
  });

  /** Runs `tsx scripts/device.ts …` in its own process; resolves with exit code and parsed stdout. */
  const device = async (state: string, ...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', 'tsx', 'scripts/device.ts', ...args, '--relay', relay.baseUrl, '--state', state],
        { cwd: ROOT },
      );
      return { code: 0, out: JSON.parse(stdout), stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout ? JSON.parse(e.stdout) : null, stderr: e.stderr };
    }
  };

  it('pairs from a proof, keeps its key in a 0600 state file, polls, shows and approves a challenge', async () => {
    const state = join(dir, 'phone.json');
    const hash = newUserHash();
    const paired = await device(state, 'pair', await prepareProof(relay.baseUrl, creds, hash), '--name', 'CLI phone');
    assert.equal(paired.code, 0, paired.stderr);
    assert.equal(paired.out.data.pairing.user_socket_hash, hash);
    assert.equal(statSync(state).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    assert.match(saved.privateKeyPem, /BEGIN PRIVATE KEY/);
    assert.equal(saved.deviceId, paired.out.data.device_id);

    const body = challengeBody(hash, { custom_type: 'goldenNumber', numbers: [12, 47, 83], expected_number: 47 });
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', body);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));

    const polled = await device(state, 'poll');
    assert.equal(polled.code, 0, polled.stderr);
    assert.equal(polled.out.data.requests[0].request_id, sent.body.data.request_id);
    assert.match(polled.stderr, /Confirm the transfer/);
    assert.match(polled.stderr, /Amount: 120\.00 \(CURRENCY_USD\)/);
    assert.match(polled.stderr, /12 \/ 47 \/ 83/);

    const approved = await device(state, 'approve', sent.body.data.request_id, '--answer', '47');
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.out.data.status, 'approved');
    const cb = await eventually(async () => receiver.received.find((c) => c.body.data?.instruction_id === body.instruction_id));
    assert.equal(cb.body.event_type, 'auth_challenge.approved');
    assert.equal(cb.body.data.number_matched, true);

    const again = await device(state, 'approve', sent.body.data.request_id, '--answer', '47');
    assert.equal(again.code, 1);
    assert.equal(again.out.error.code, 'ALREADY_RESOLVED');
  });

  it('denies, refreshes its session, unpairs; a paired state file is not overwritten by a second pair', async () => {
    const state = join(dir, 'laptop.json');
    const hash = newUserHash();
    assert.equal((await device(state, 'pair', await prepareProof(relay.baseUrl, creds, hash))).code, 0);
    const refusedPair = await device(state, 'pair', await prepareProof(relay.baseUrl, creds, hash));
    assert.equal(refusedPair.code, 2);
    assert.match(refusedPair.stderr, /already holds a paired device/);

    const body = challengeBody(hash);
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', body);
    const denied = await device(state, 'deny', sent.body.data.request_id);
    assert.equal(denied.code, 0, denied.stderr);
    const st = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${body.instruction_id}`);
    assert.equal(st.body.data.status, 'denied');

    const before = JSON.parse(readFileSync(state, 'utf8')).sessionToken;
    assert.equal((await device(state, 'refresh')).code, 0);
    assert.notEqual(JSON.parse(readFileSync(state, 'utf8')).sessionToken, before);
    assert.equal((await device(state, 'poll')).code, 0, 'the refreshed token works');

    assert.equal((await device(state, 'unpair')).code, 0);
    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    assert.equal(list.body.data.devices[0].status, 'revoked');
  });

  it('reports a used proof as a refusal (exit 1, the relay error)', async () => {
    const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
    assert.equal((await device(join(dir, 'a.json'), 'pair', proof)).code, 0);
    const second = await device(join(dir, 'b.json'), 'pair', proof);
    assert.equal(second.code, 1);
    assert.equal(second.out.error.code, 'GONE');
  });
});
