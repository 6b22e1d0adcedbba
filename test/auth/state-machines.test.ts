/**
 * Walks the transition tables of the auth and console side (approval request, QR-login session,
 * console challenge, pairing intent, device): for every (transition, state, actor) of each table,
 * the move is made through the real code that makes it — the model functions against a real Redis,
 * and pairing through the relay's HTTP routes with FerretDB — and a legal move lands in the table's
 * `to` while an illegal one is refused with the state unchanged.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { APPROVAL_ACTORS, approvalMachine, type ApprovalActor, type ApprovalTransition } from '../../models/auth/approval-machine.js';
import {
  createState,
  endState,
  readState,
  recordAnswer,
  type ApprovalState,
  type EndTransition,
} from '../../models/auth/approval-state.js';
import { DeviceModel, type DeviceDoc } from '../../models/auth/device.js';
import { PairingIntentModel } from '../../models/auth/pairing.js';
import { deviceMachine, pairingIntentMachine } from '../../models/auth/pairing-machine.js';
import { QR_ACTORS, qrLoginMachine, type QrActor, type QrStatus, type QrTransition } from '../../models/auth/qr-login-machine.js';
import { answerQrSession, createQrSession, pollQrSession } from '../../models/auth/qr-login.js';
import { challengeMachine, type ChallengeState, type ChallengeTransition } from '../../models/console/challenge-machine.js';
import { MAX_ATTEMPTS, openChallenge, readChallenge, settle } from '../../models/console/challenges.js';
import { redisKey } from '../../platform/keys.js';
import { everyMove } from '../../platform/state-machine.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';
import { DeviceClient } from '../../scripts/device.js';
import { TENANT, answerOf, newApproval } from './approval-fixtures.js';
import { newUserHash, pairDevice, prepareProof } from './support.js';

/** What a move did: the state before and after, and whether the code refused it (a verdict or an error). */
type Outcome = { before: string; after: string; refused: boolean };

function check(m: { name: string }, move: { name: string; state: string; actor: string; legal: boolean; to: string }, o: Outcome) {
  const label = `${m.name}: ${move.name} from ${move.state} by ${move.actor}`;
  assert.equal(o.before, move.state, `${label}: set up in the wrong state`);
  if (move.legal) {
    assert.equal(o.refused, false, `${label}: refused`);
    assert.equal(o.after, move.to, `${label}: ended in ${o.after}`);
  } else {
    assert.equal(o.refused, true, `${label}: not refused`);
    assert.equal(o.after, move.state, `${label}: changed the state to ${o.after}`);
  }
}

/** Runs `f`; an error is a refusal (the code threw: an IllegalTransition, a DomainError). */
const attempt = async (f: () => Promise<boolean>): Promise<boolean> => f().catch(() => true);

describe('auth state machines: every transition walked through the real code', function () {
  this.timeout(60_000);
  let relay: Relay;
  let creds: TenantCreds;
  let redis: Redis;
  let prefix: string;
  before(async () => {
    relay = await startRelay('machines');
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    redis = new Redis(relay.config.redisUrl);
    prefix = relay.config.queuePrefix;
  });
  after(async () => {
    redis?.disconnect();
    await relay?.stop();
  });

  it('approval request', async () => {
    const status = async (s: ApprovalState) => (await readState(redis, prefix, TENANT, s._id))?.status ?? 'missing';
    const moves = everyMove(approvalMachine, APPROVAL_ACTORS);
    assert.equal(moves.length, 4 * 6 * 3);
    for (const move of moves) {
      // One person, threshold one: an approval approves, a denial denies. Expiring moves run at the expiry.
      const { s, device } = newApproval({ people: 1, threshold: 1, status: move.state, expiresInMs: 5_000 });
      assert.equal(await createState(redis, prefix, s), true);
      const at = move.name === 'expire' ? s.expires_at.getTime() : Date.now();
      const before = await status(s);
      const refused = await attempt(async () => {
        if ((move.name === 'approve' || move.name === 'deny') && move.actor === 'device') {
          const v = await recordAnswer(redis, prefix, TENANT, s._id, device(0), answerOf(s, device(0), move.name), at);
          return v.kind !== 'decided';
        }
        // Every other actor's only way to move a request is endState (which takes no approve or deny).
        const v = await endState(redis, prefix, TENANT, s._id, move.name as EndTransition, move.actor as ApprovalActor, at);
        return v.kind !== 'decided';
      });
      check(approvalMachine, move, { before, after: await status(s), refused });
    }
  });

  it('QR-login session', async () => {
    const who = { deviceId: 'dev_w', relayUserLinkedId: 'link_w', backendUserId: 'user_w', userSocketHash: 'ush_w' };
    const moves = everyMove(qrLoginMachine, QR_ACTORS);
    for (const move of moves) {
      // Number matching on, so the mismatch move exists.
      const q = await createQrSession(redis, prefix, creds.tenantId, {
        origin: 'https://a.example',
        browser: 't',
        numberMatching: true,
        ttlSeconds: 30,
      });
      const right = q.match?.match ?? '';
      const wrong = q.match?.choices.find((c) => c !== right) ?? '';
      const key = redisKey.qrLogin(prefix, creds.tenantId, q.sessionId);
      const status = async () => ((await redis.hget(key, 'status')) ?? 'missing') as QrStatus;
      const answer = (name: QrTransition, by: QrActor) =>
        answerQrSession(
          redis,
          prefix,
          creds.tenantId,
          q.sessionId,
          name === 'deny' ? 'deny' : 'approve',
          who,
          name === 'mismatch' ? wrong : right,
          by,
        );
      // Into the move's state along the table.
      const path: Record<QrStatus, QrTransition[]> = {
        pending: [],
        approved: ['approve'],
        denied: ['deny'],
        consumed: ['approve', 'consume'],
      };
      for (const step of path[move.state]) {
        if (step === 'consume')
          assert.equal((await pollQrSession(redis, prefix, creds.tenantId, q.sessionId, q.pollToken)).kind, 'approved');
        else assert.ok(['OK', 'MISMATCH'].includes(await answer(step, 'device')));
      }
      const before = await status();
      const refused = await attempt(async () => {
        if (move.name === 'consume') {
          const p = await pollQrSession(redis, prefix, creds.tenantId, q.sessionId, q.pollToken, move.actor);
          return p.kind !== 'approved' && p.kind !== 'denied';
        }
        const v = await answer(move.name, move.actor);
        return v !== (move.name === 'mismatch' ? 'MISMATCH' : 'OK');
      });
      check(qrLoginMachine, move, { before, after: await status(), refused });
    }
  });

  it('console challenge', async () => {
    const deps = { config: relay.config, redis };
    let seq = 0;
    for (const move of everyMove(challengeMachine, ['person'])) {
      const id = `walk${seq++}`;
      const state = async (): Promise<ChallengeState> => {
        const rec = await readChallenge(deps, 'login', id);
        return !rec ? 'used' : rec.dead === '1' ? 'dead' : 'live';
      };
      await openChallenge(deps, 'login', id, { account: 'acc' }, 60);
      const wrong = () => settle(deps, 'login', id, false).catch(() => undefined);
      // Into the state: used = settled; dead = MAX_ATTEMPTS wrong codes; exhaust needs the last allowed one left.
      if (move.state === 'used') await settle(deps, 'login', id, true);
      if (move.state === 'dead') for (let i = 0; i < MAX_ATTEMPTS; i++) await wrong();
      if (move.state === 'live' && move.name === 'exhaust') for (let i = 0; i < MAX_ATTEMPTS - 1; i++) await wrong();
      const before = await state();
      const refused = await attempt(async () => {
        const name: ChallengeTransition = move.name;
        if (name === 'pass') return !(await settle(deps, 'login', id, true));
        // A wrong code: INVALID_CODE is the miss made (counted), GONE is the exhaust made or a refusal.
        const e = await settle(deps, 'login', id, false).catch((x: { code?: string }) => x);
        if (name === 'miss') return (e as { code?: string }).code !== 'INVALID_CODE';
        return before !== 'live' || (e as { code?: string }).code !== 'GONE';
      });
      check(challengeMachine, move, { before, after: await state(), refused });
    }
  });

  it('pairing intent and device', async () => {
    // The intent: redeemed once by a device; a second redemption is refused and changes nothing.
    for (const move of everyMove(pairingIntentMachine, ['device'])) {
      const proof = await prepareProof(relay.baseUrl, creds, newUserHash());
      const pin = JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString()).pin as string;
      const status = async () => (await PairingIntentModel.findOne({ _id: pin }).lean())?.status ?? 'missing';
      if (move.state === 'consumed') assert.equal((await DeviceClient.create(relay.baseUrl).pair(proof)).status, 201);
      const before = await status();
      const r = await DeviceClient.create(relay.baseUrl).pair(proof);
      check(pairingIntentMachine, move, { before, after: await status(), refused: r.status !== 201 });
    }

    // The device: revoked by itself (unpair) or by the tenant's backend; a revoked device stays as it was revoked.
    const revokers = ['device', 'backend'] as const;
    for (const move of everyMove(deviceMachine, revokers)) {
      const hash = newUserHash();
      const device = await pairDevice(relay.baseUrl, creds, hash);
      const id = device.state.deviceId ?? '';
      const read = async () => DeviceModel.findOne({ _id: id }).lean<DeviceDoc>();
      const revokeBy = async (by: (typeof revokers)[number]) =>
        by === 'device'
          ? (await device.unpair()).status
          : (await signed(relay.baseUrl, creds, 'POST', '/relay/revoke/device', { user_socket_hash: hash, device_id: id })).status;
      // Revoked beforehand by the other actor, so a second revocation that wrote would show in revoked_by.
      const first = revokers.find((a) => a !== move.actor) ?? 'device';
      if (move.state === 'revoked') assert.equal(await revokeBy(first), 200);
      const was = await read();
      const code = await revokeBy(move.actor);
      const now = await read();
      // Refused: the guarded update did not write (revoked_by and revoked_at are the first revocation's).
      const refused =
        move.state === 'revoked'
          ? now?.revoked_by === was?.revoked_by && now?.revoked_at?.getTime() === was?.revoked_at?.getTime()
          : code !== 200;
      check(deviceMachine, move, { before: was?.status ?? 'missing', after: now?.status ?? 'missing', refused });
      if (move.legal) assert.equal(now?.revoked_by, move.actor);
    }
  });

  it('each table is walked in full', () => {
    // (Guards the walks above against a table growing a transition or a state they do not set up.)
    const names = (m: { transitions: object }) => Object.keys(m.transitions).sort();
    assert.deepEqual(names(approvalMachine), ['approve', 'cancel', 'deny', 'expire'] satisfies ApprovalTransition[]);
    assert.deepEqual(names(qrLoginMachine), ['approve', 'consume', 'deny', 'mismatch']);
    assert.deepEqual(names(challengeMachine), ['exhaust', 'miss', 'pass']);
    assert.deepEqual(names(pairingIntentMachine), ['redeem']);
    assert.deepEqual(names(deviceMachine), ['revoke']);
  });
});
