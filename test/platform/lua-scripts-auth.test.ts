/**
 * Direct decision tests of the auth, console and platform-gate Lua scripts (platform/lua/*.lua)
 * against a real Redis (REDIS_URL, from scripts/with-services.sh): each through the function that
 * runs it where that function needs no more than a Redis, else through defineScript. The approval
 * quorum runs the same cases as the pure rule's unit test (models/auth/approval-quorum.cases.ts),
 * so the script and decideQuorum agree.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { QUORUM_CASES } from '../../models/auth/approval-quorum.cases.js';
import { decideQuorum } from '../../models/auth/approval-rules.js';
import { createState, endState, readState, recordAnswer, restoreState, type ApprovalState } from '../../models/auth/approval-state.js';
import { answerQrSession, createQrSession, pollQrSession } from '../../models/auth/qr-login.js';
import { MAX_ATTEMPTS, openChallenge, readChallenge, settle } from '../../models/console/challenges.js';
import { releaseIfHeld } from '../../platform/claims.js';
import type { Config } from '../../platform/config.js';
import { DomainError } from '../../platform/errors.js';
import { defineScript } from '../../platform/redis-scripts.js';
import { IllegalTransition } from '../../platform/state-machine.js';
import { TENANT, answerOf, newApproval } from '../auth/approval-fixtures.js';

const uid = () => randomBytes(5).toString('hex');

describe('Lua scripts: auth, console and the HMAC gate decide', function () {
  this.timeout(30_000);
  let redis: Redis;
  const prefix = `t:lua-auth-${uid()}`;
  before(() => {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('run through scripts/with-services.sh (REDIS_URL)');
    redis = new Redis(url);
  });
  after(() => redis.disconnect());

  describe('approval request (approval-create, -answer, -end, -restore)', () => {
    const create = async (o: Parameters<typeof newApproval>[0]) => {
      const a = newApproval(o);
      assert.equal(await createState(redis, prefix, a.s), true);
      return a;
    };
    const statusOf = async (s: ApprovalState) => (await readState(redis, prefix, TENANT, s._id))?.status;

    for (const c of QUORUM_CASES)
      it(`quorum: ${c.name}`, async () => {
        const { s, device } = await create({ people: c.people, threshold: c.threshold, denyFirst: c.denyFirst });
        let approvals = 0;
        let denials = 0;
        for (const [i, effect] of c.answers.entries()) {
          const v = await recordAnswer(redis, prefix, TENANT, s._id, device(i), answerOf(s, device(i), effect));
          if (effect === 'approve') approvals++;
          else denials++;
          const expected = c.after[i];
          // The script and the pure rule say the same.
          assert.equal(decideQuorum({ people: c.people, threshold: c.threshold, denyFirst: c.denyFirst, approvals, denials }), expected);
          if (expected) assert.deepEqual(v, { kind: 'decided', status: expected }, `answer ${i + 1}`);
          else assert.deepEqual(v, { kind: 'recorded', approvals, denials }, `answer ${i + 1}`);
        }
        const final = c.after.at(-1);
        assert.equal(await statusOf(s), final ?? 'pending');
        // Once decided, a later answer (someone who had not answered) is refused and changes nothing.
        const late = c.answers.length;
        if (final && late < c.people) {
          assert.deepEqual(await recordAnswer(redis, prefix, TENANT, s._id, device(late), answerOf(s, device(late), 'approve')), {
            kind: 'final',
            status: final,
          });
          assert.equal(await statusOf(s), final);
        }
      });

    it('2 of 3 approve → approved; deny-first → denied on the first deny', async () => {
      const a = await create({ people: 3, threshold: 2 });
      assert.equal(
        (await recordAnswer(redis, prefix, TENANT, a.s._id, a.device(1), answerOf(a.s, a.device(1), 'approve'))).kind,
        'recorded',
      );
      assert.deepEqual(await recordAnswer(redis, prefix, TENANT, a.s._id, a.device(2), answerOf(a.s, a.device(2), 'approve')), {
        kind: 'decided',
        status: 'approved',
      });
      const b = await create({ people: 3, threshold: 2, denyFirst: true });
      assert.deepEqual(await recordAnswer(redis, prefix, TENANT, b.s._id, b.device(0), answerOf(b.s, b.device(0), 'deny')), {
        kind: 'decided',
        status: 'denied',
      });
    });

    it('a second answer by the same person (any of their devices) is refused', async () => {
      const { s, device } = await create({ people: 3, threshold: 3 });
      assert.equal((await recordAnswer(redis, prefix, TENANT, s._id, device(0), answerOf(s, device(0), 'approve'))).kind, 'recorded');
      assert.equal((await recordAnswer(redis, prefix, TENANT, s._id, device(0), answerOf(s, device(0), 'deny'))).kind, 'duplicate');
      const other = `${s._id}_dev0b`;
      assert.equal((await recordAnswer(redis, prefix, TENANT, s._id, other, answerOf(s, other, 'deny'))).kind, 'duplicate');
      const after = await readState(redis, prefix, TENANT, s._id);
      assert.equal(after?.status, 'pending');
      assert.equal(after?.answers.length, 1);
      assert.equal(after?.answers[0]?.effect, 'approve', 'the first answer stands');
    });

    it('a device that is not a participant, and a request that does not exist, are refused', async () => {
      const { s } = await create({ people: 1, threshold: 1 });
      assert.equal(
        (await recordAnswer(redis, prefix, TENANT, s._id, 'dev_stranger', answerOf(s, 'dev_stranger', 'approve'))).kind,
        'not_participant',
      );
      assert.equal((await recordAnswer(redis, prefix, TENANT, 'apr_none', 'dev_x', answerOf(s, 'dev_x', 'approve'))).kind, 'missing');
      assert.equal((await endState(redis, prefix, TENANT, 'apr_none', 'cancel', 'tenant')).kind, 'missing');
    });

    it('an answer after the end is refused: cancelled, expired, decided', async () => {
      const c = await create({ people: 2, threshold: 1 });
      assert.deepEqual(await endState(redis, prefix, TENANT, c.s._id, 'cancel', 'tenant'), { kind: 'decided' });
      assert.deepEqual(await recordAnswer(redis, prefix, TENANT, c.s._id, c.device(0), answerOf(c.s, c.device(0), 'approve')), {
        kind: 'final',
        status: 'cancelled',
      });
      assert.deepEqual(await endState(redis, prefix, TENANT, c.s._id, 'expire', 'sweeper', Date.now() + 120_000), {
        kind: 'final',
        status: 'cancelled',
      });

      const e = await create({ people: 1, threshold: 1, expiresInMs: 1000 });
      const later = e.s.expires_at.getTime();
      assert.deepEqual(await recordAnswer(redis, prefix, TENANT, e.s._id, e.device(0), answerOf(e.s, e.device(0), 'approve'), later), {
        kind: 'expired',
      });
      assert.deepEqual(await endState(redis, prefix, TENANT, e.s._id, 'expire', 'sweeper', later), { kind: 'decided' });
      assert.deepEqual(await recordAnswer(redis, prefix, TENANT, e.s._id, e.device(0), answerOf(e.s, e.device(0), 'approve'), later), {
        kind: 'final',
        status: 'expired',
      });
    });

    it('expire waits for the expiry; only the sweeper expires and only the tenant cancels', async () => {
      const { s } = await create({ people: 1, threshold: 1 });
      assert.deepEqual(await endState(redis, prefix, TENANT, s._id, 'expire', 'sweeper'), { kind: 'early' });
      await assert.rejects(endState(redis, prefix, TENANT, s._id, 'expire', 'tenant'), IllegalTransition);
      await assert.rejects(endState(redis, prefix, TENANT, s._id, 'cancel', 'device'), IllegalTransition);
      assert.equal(await statusOf(s), 'pending');
    });

    it('an answer racing the expiry ends in exactly one state', async () => {
      for (let i = 0; i < 20; i++) {
        const { s, device } = await create({ people: 1, threshold: 1, expiresInMs: 5_000 });
        const at = s.expires_at.getTime();
        // The answer was sent just before the expiry, the expiry job runs at it: both race.
        const answer = () => recordAnswer(redis, prefix, TENANT, s._id, device(0), answerOf(s, device(0), 'approve'), at - 1);
        const expire = () => endState(redis, prefix, TENANT, s._id, 'expire', 'sweeper', at);
        let v, e;
        if (i % 2) [v, e] = await Promise.all([answer(), expire()]);
        else [e, v] = await Promise.all([expire(), answer()]);
        const final = await statusOf(s);
        const won = [v.kind === 'decided', e.kind === 'decided'].filter(Boolean).length;
        assert.equal(won, 1, `exactly one of them moved it (${JSON.stringify([v, e])})`);
        assert.equal(final, v.kind === 'decided' ? 'approved' : 'expired');
        // The loser was told the winner's state.
        if (v.kind === 'decided') assert.deepEqual(e, { kind: 'final', status: 'approved' });
        else assert.deepEqual(v, { kind: 'final', status: 'expired' });
      }
    });

    it('create refuses an instruction id another live request holds; a resend does not reset it; restore leaves a hash alone', async () => {
      const a = newApproval({ people: 1, threshold: 1 });
      const instruction = `ins_${uid()}`;
      const first = { ...a.s, instruction_id: instruction };
      assert.equal(await createState(redis, prefix, first), true);
      assert.equal(
        (await recordAnswer(redis, prefix, TENANT, first._id, a.device(0), answerOf(first, a.device(0), 'approve'))).kind,
        'decided',
      );
      assert.equal(await createState(redis, prefix, first), true, 'a resend of the same request');
      assert.equal(await statusOf(first), 'approved', 'not reset');
      const other = newApproval({ people: 1, threshold: 1 }).s;
      assert.equal(await createState(redis, prefix, { ...other, instruction_id: instruction }), false);

      await restoreState(redis, prefix, { ...first, status: 'pending' });
      assert.equal(await statusOf(first), 'approved', 'restore does not overwrite a live hash');
      const lost = newApproval({ people: 1, threshold: 1 }).s;
      await restoreState(redis, prefix, lost);
      assert.equal(await statusOf(lost), 'pending', 'restore writes a missing one');
    });
  });

  describe('QR-login session (qr-login-answer, -consume)', () => {
    const who = { deviceId: 'dev_q', relayUserLinkedId: 'link_q', backendUserId: 'user_q', userSocketHash: 'ush_q' };
    const open = (numberMatching = false, ttlSeconds = 30) =>
      createQrSession(redis, prefix, TENANT, { origin: 'https://a.example', browser: 'test', numberMatching, ttlSeconds });

    it('an answer is taken once; the outcome is consumed once', async () => {
      const q = await open();
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'approve', who, null), 'OK');
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'deny', who, null), 'FINAL');
      const polls = await Promise.all([1, 2, 3].map(() => pollQrSession(redis, prefix, TENANT, q.sessionId, q.pollToken)));
      assert.deepEqual(polls.map((p) => p.kind).sort(), ['approved', 'gone', 'gone']);
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'approve', who, null), 'FINAL');
    });

    it('a denial is consumed once too; a wrong poll token reads nothing', async () => {
      const q = await open();
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'deny', who, null), 'OK');
      assert.equal((await pollQrSession(redis, prefix, TENANT, q.sessionId, 'qpt_wrong')).kind, 'gone');
      assert.equal((await pollQrSession(redis, prefix, TENANT, q.sessionId, q.pollToken)).kind, 'denied');
      assert.equal((await pollQrSession(redis, prefix, TENANT, q.sessionId, q.pollToken)).kind, 'gone');
    });

    it('number matching: none is refused, a wrong one ends it denied, the right one approves', async () => {
      const q = await open(true);
      const match = q.match?.match ?? '';
      const wrong = q.match?.choices.find((c) => c !== match) ?? '';
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'approve', who, null), 'NEEDS_NUMBER');
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'approve', who, wrong), 'MISMATCH');
      assert.equal((await pollQrSession(redis, prefix, TENANT, q.sessionId, q.pollToken)).kind, 'denied');
      const r = await open(true);
      assert.equal(await answerQrSession(redis, prefix, TENANT, r.sessionId, 'approve', who, r.match?.match ?? ''), 'OK');
    });

    it('an expired or unknown session takes no answer', async () => {
      const q = await open(false, 0);
      assert.equal(await answerQrSession(redis, prefix, TENANT, q.sessionId, 'approve', who, null), 'EXPIRED');
      assert.equal(await answerQrSession(redis, prefix, TENANT, 'qr_none', 'approve', who, null), 'MISSING');
    });
  });

  describe('push fatigue (prompt-fatigue-hit): a sliding window, all or nothing', () => {
    const HIT = defineScript<string[], [number, number, number, string], [number, number]>('prompt-fatigue-hit');
    // A window of 100 s: the logs' real TTL is the window, and the test's clock is its own.
    const hit = (keys: string[], now: number) => HIT.run(redis, keys, [3, 100_000, now, `${now}:${uid()}`]);
    const log = () => `${prefix}:{${TENANT}}:fatigue:${uid()}:log`;

    it('counts up to the limit, refuses with the wait until the oldest leaves, and the window slides', async () => {
      const k = log();
      const t = 1_000_000;
      for (const at of [t, t + 10, t + 20]) assert.deepEqual(await hit([k], at), [0, 0]);
      assert.deepEqual(await hit([k], t + 30), [1, 99_970]);
      assert.deepEqual(await hit([k], t + 99_999), [1, 1], 'one ms before the oldest leaves');
      assert.deepEqual(await hit([k], t + 100_000), [0, 0], 'the oldest left at exactly one window');
      assert.deepEqual(await hit([k], t + 100_001), [1, 9], 'refused hits were not counted: the one at +10 is next');
      assert.equal(await redis.zcard(k), 3);
    });

    it('a request to several people is refused whole when one is over, and counts nobody', async () => {
      const [a, b] = [log(), log()];
      const t = 2_000_000;
      for (const at of [t, t + 1, t + 2]) await hit([b], at);
      assert.deepEqual(await hit([a, b], t + 3), [2, 99_997]);
      assert.equal(await redis.zcard(a), 0, 'the person under the limit was not counted');
    });
  });

  describe('console challenge (console-challenge-settle)', () => {
    const deps = () => ({ config: { queuePrefix: prefix } as unknown as Config, redis });
    const code = (e: unknown) => (e instanceof DomainError ? e.code : String(e));

    it('a right code settles once; a second right code is refused', async () => {
      const id = uid();
      await openChallenge(deps(), 'login', id, { account: 'acc' }, 60);
      const both = await Promise.allSettled([settle(deps(), 'login', id, true), settle(deps(), 'login', id, true)]);
      assert.deepEqual(both.map((r) => (r.status === 'fulfilled' ? 'ok' : code(r.reason))).sort(), ['GONE', 'ok']);
      assert.equal(await readChallenge(deps(), 'login', id), null);
    });

    it('wrong codes count; the last allowed kills it; a dead challenge refuses the right code', async () => {
      const id = uid();
      await openChallenge(deps(), 'reset', id, {}, 60);
      for (let n = 1; n < MAX_ATTEMPTS; n++) {
        const e = await settle(deps(), 'reset', id, false).catch((x: unknown) => x);
        assert.equal(code(e), 'INVALID_CODE');
        assert.deepEqual((e as DomainError).details, [`attempts_left: ${MAX_ATTEMPTS - n}`]);
      }
      assert.equal(code(await settle(deps(), 'reset', id, false).catch((x: unknown) => x)), 'GONE');
      assert.equal((await readChallenge(deps(), 'reset', id))?.dead, '1');
      assert.equal(code(await settle(deps(), 'reset', id, true).catch((x: unknown) => x)), 'GONE', 'dead refuses the right code');
      assert.equal(code(await settle(deps(), 'reset', uid(), true).catch((x: unknown) => x)), 'GONE', 'a missing one too');
    });
  });

  describe('HMAC gate (hmac-gate)', () => {
    const GATE = defineScript<
      [string, string, string, string],
      [string, '0' | '1', number, number, number, number],
      [string, string?, string?]
    >('hmac-gate');
    const keys = (t: string, sig: string): [string, string, string, string] => [
      `${prefix}:{${t}}:gen`,
      `${prefix}:{${t}}:sig:${sig}`,
      `${prefix}:{${t}}:rate:1`,
      `${prefix}:{${t}}:rate:0`,
    ];
    const gate = (t: string, sig: string, o: { gen?: string; valid?: boolean; limit?: number; elapsed?: number } = {}) =>
      GATE.run(redis, keys(t, sig), [o.gen ?? '0', o.valid === false ? '0' : '1', 60_000, o.limit ?? 10, o.elapsed ?? 0, 60_000]);

    it('accepts a fresh valid signature, then refuses its replay', async () => {
      const t = `tnt_${uid()}`;
      assert.deepEqual(await gate(t, 'aa', { elapsed: 1000 }), ['OK', '9', '59000']);
      assert.deepEqual(await gate(t, 'aa'), ['REPLAY']);
    });

    it('a bad signature is refused and records nothing (the genuine one after it passes)', async () => {
      const t = `tnt_${uid()}`;
      assert.deepEqual(await gate(t, 'bb', { valid: false }), ['BADSIG']);
      assert.equal((await gate(t, 'bb'))[0], 'OK');
    });

    it('a stale generation is told the current one, before anything else', async () => {
      const t = `tnt_${uid()}`;
      await redis.set(keys(t, 'x')[0], '7');
      assert.deepEqual(await gate(t, 'cc', { gen: '6' }), ['STALE', '7']);
      assert.equal((await gate(t, 'cc', { gen: '7' }))[0], 'OK', 'the stale try did not record the signature');
    });

    it('rate limit: refused at the limit (not counted), with the wait; the previous window weighs in', async () => {
      const t = `tnt_${uid()}`;
      assert.equal((await gate(t, 's1', { limit: 2 }))[0], 'OK');
      assert.equal((await gate(t, 's2', { limit: 2 }))[0], 'OK');
      assert.deepEqual(await gate(t, 's3', { limit: 2, elapsed: 10_000 }), ['LIMITED', '50000', '2']);
      assert.equal((await gate(t, 's3', { limit: 3, elapsed: 10_000 }))[0], 'OK', 'the limited try was not recorded as seen');
      const u = `tnt_${uid()}`;
      await redis.set(keys(u, 'x')[3], '10'); // 10 in the previous window, half of it still weighs at mid-window
      // 5 used of 4: the previous window's share must fall under 4, i.e. weigh under 0.4: 6 s on.
      assert.deepEqual(await gate(u, 'p1', { limit: 4, elapsed: 30_000 }), ['LIMITED', '6000', '5']);
      assert.equal((await gate(u, 'p1', { limit: 6, elapsed: 30_000 }))[0], 'OK');
    });
  });

  describe('guarded cache (guarded-cache-put) and unlock', () => {
    const PUT = defineScript<[string, string], [string, string, number], number>('guarded-cache-put');

    it('a put is refused once the generation changed, and caches when it did not', async () => {
      const [entry, gen] = [`${prefix}:{gc}:e:${uid()}`, `${prefix}:{gc}:g:${uid()}`];
      assert.equal(await PUT.run(redis, [entry, gen], ['', 'v0', 60]), 1);
      await redis.incr(gen);
      await redis.del(entry);
      assert.equal(await PUT.run(redis, [entry, gen], ['', 'old', 60]), 0);
      assert.equal(await redis.get(entry), null);
      assert.equal(await PUT.run(redis, [entry, gen], ['1', 'new', 60]), 1);
      assert.equal(await redis.get(entry), 'new');
    });

    it('a lock is freed only by its owner', async () => {
      const k = `${prefix}:lock:${uid()}`;
      await redis.set(k, 'owner-token', 'PX', 60_000);
      assert.equal(await releaseIfHeld(redis, k, 'someone-else'), 0);
      assert.equal(await redis.get(k), 'owner-token');
      assert.equal(await releaseIfHeld(redis, k, 'owner-token'), 1);
      assert.equal(await redis.get(k), null);
      assert.equal(await releaseIfHeld(redis, k, 'owner-token'), 0, 'gone');
    });
  });
});
