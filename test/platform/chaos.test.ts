/**
 * Chaos (issues 9 and 21): what the relay accepted keeps its promise while everything around it fails.
 * Real processes (a spawned API and spawned workers), real Redis and FerretDB (restarted in place
 * through services.restart of scripts/services/ctl.ts). While CHAOS_CALLBACKS signed test-callbacks are sent (1,000 in CI,
 * `npm run chaos` for 10,000) — and beside them, spread over the same time, push challenges, sudo
 * dispatches that a paired device approves, and widget chat messages — the tenants' receivers answer
 * 5xx at random 30% of the time and:
 *   (a) the worker is SIGKILLed twice (a new one is started each time);
 *   (b) Redis is SIGKILLed and restarted from its AOF (appendfsync always: nothing it acknowledged
 *       is lost);
 *   (c) FerretDB is stopped and restarted.
 * Every accepted callback reaches its receiver with a 2xx at least once; every accepted challenge and
 * acked chat message is in MongoDB once (each message under the number it was acked with, no number
 * used twice); every accepted sudo dispatch is approved and its ApprovalEvent delivered; none is
 * lost; while a store is down the API answers 503 quickly (never 500, never a hang) and recovers.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { Receiver } from '../fakes/receiver.js';
import type { DeviceClient, OpenRequest } from '../../scripts/device.js';
import { newUserHash, pairDevice } from '../auth/support.js';
import { Accepted, WidgetVisitor, sendChallenge, sendSudo } from '../support/accepted-load.js';
import { createSession } from '../support/chat-client.js';
import { call, provision, signedHeaders, type TenantCreds } from '../support/client.js';
import { complete, describeFindings, findings, type Findings } from '../support/durable-checks.js';
import { redisKey } from '../../platform/keys.js';
import { QUEUE } from '../../queues/names.js';
import { services } from '../../scripts/services/ctl.js';
import { eventually, sleep, spawnApi, spawnWorker, startRelay, type Child, type Relay } from '../support/harness.js';

const TOTAL = Number(process.env.CHAOS_CALLBACKS ?? 1000);
const TENANTS = 4;
const FAIL_RATE = 0.3;
const ORIGIN = 'https://shop.example.com';
/** The other accepted work, spread over the callbacks' sending (at least a few of each at any size). */
const CHALLENGES = Math.max(20, Math.round(TOTAL / 20));
const SUDO = Math.max(10, Math.round(TOTAL / 50));
const MESSAGES = Math.max(20, Math.round(TOTAL / 20));

type Probe = { status: number; ms: number };

describe('chaos: callbacks survive worker kills, a Redis crash and a FerretDB restart', function () {
  this.timeout(Math.max(300_000, TOTAL * 200));
  let relay: Relay;
  let api: Child;
  const workers: Child[] = [];
  let receiver: Receiver;
  const tenants: TenantCreds[] = [];
  // The tenant of the auth and chat work, with a receiver of its own (as flaky as the other).
  let mixed: TenantCreds;
  let mixedReceiver: Receiver;
  let device: DeviceClient;
  let linkId: string;
  let userHash: string;
  let visitor: WidgetVisitor;

  before(function () {
    if (!process.env.LOCAL_SERVICES_PID) {
      console.log('      (skipped: needs the Redis and FerretDB that scripts/with-services.sh starts, to restart them)');
      this.skip();
    }
  });
  before(async () => {
    const env = {
      CALLBACK_RETRY_SCHEDULE: '0,200ms,400ms,800ms,1s,1s,2s,2s,3s,3s,3s,3s,3s,3s',
      CALLBACK_TIMEOUT_MS: '2000',
      DELIVERY_CONCURRENCY: '40',
      DELIVERY_TENANT_CONCURRENCY: '20',
      // The sweeper re-queues a pending delivery whose job is gone. On FerretDB its query reads the whole
      // deliveries collection (no index use but _id), so at 10,000 callbacks a sweep every 2 s kept
      // FerretDB busy and starved the deliveries: it scales with the run.
      DELIVERY_SWEEP_EVERY_MS: String(Math.max(2000, TOTAL * 2)),
      DELIVERY_SWEEP_GRACE_MS: String(Math.max(4000, TOTAL * 4)),
      JOB_LOCK_MS: '3000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
      PUSH_SYNC_WAIT_MS: '100',
      PUSH_FATIGUE_MAX: '100000',
      CHAT_MESSAGES_PER_SESSION_PER_MIN: '100000',
      LOG_LEVEL: 'warn',
    };
    relay = await startRelay('chaos', env);
    receiver = await new Receiver().start();
    receiver.answerWith(() => (Math.random() < FAIL_RATE ? { status: 503 } : { status: 200 }));
    for (let i = 0; i < TENANTS; i++)
      tenants.push(await provision(relay.baseUrl, { callback_url_base: receiver.url, rate_limit_per_min: 10_000 }));
    mixedReceiver = await new Receiver().start();
    mixedReceiver.answerWith(() => (Math.random() < FAIL_RATE ? { status: 503 } : { status: 200 }));
    mixed = await provision(relay.baseUrl, {
      callback_url_base: mixedReceiver.url,
      rate_limit_per_min: 10_000,
      allowed_origins: [ORIGIN],
    });
    api = await spawnApi(relay.env);
    workers.push(await spawnWorker(relay.env));
    userHash = newUserHash();
    device = await pairDevice(api.url, mixed, userHash, { deviceName: 'chaos device' });
    linkId = String(device.state.pairing?.relay_user_linked_id);
    const session = await createSession(api.url, mixed, ORIGIN, { mode: 'human' });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    visitor = new WidgetVisitor(api.url, session.token, ORIGIN);
  });
  after(async () => {
    for (const w of workers) await w.kill('SIGKILL').catch(() => undefined);
    await api?.kill().catch(() => undefined);
    visitor?.close();
    await receiver?.stop();
    await mixedReceiver?.stop();
    await relay?.stop();
  });

  it(`${TOTAL} callbacks, 30% answered 5xx, 2 worker SIGKILLs, Redis crash + AOF restart, FerretDB restart: all delivered`, async () => {
    const started = Date.now();
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    let slowest = 0;

    // Each fault is injected once a fraction of the callbacks is accepted, and the rest wait for it: so
    // the faults always fall in the middle of the sending (the outages meet requests), however fast
    // or slow this machine is.
    const gates = [0.15, 0.35, 0.55, 0.75].map((fraction) => {
      let open = () => undefined as void;
      const opened = new Promise<void>((r) => (open = r));
      return { fraction, opened, open };
    });
    const fault = (fraction: number) => gates.find((g) => g.fraction === fraction)!.open();

    /** One signed test-callback, retried on 503/429/network errors as a tenant's backend would. */
    // Sends whose outcome the client could not know: no answer, or a 503 from a store whose reply was
    // lost after it ran the write. Their event may be delivered as well as the retry's (at least once).
    const uncertain = new Set<string>();
    async function sendOne(i: number): Promise<void> {
      for (const g of gates) if (i >= TOTAL * g.fraction) await g.opened;
      const creds = tenants[i % TENANTS]!;
      for (let attempt = 0; ; attempt++) {
        const raw = JSON.stringify({ note: `chaos ${i}` });
        const t0 = Date.now();
        const r = await call(api.url, 'POST', '/api/v1/relay/send/test-callback', {
          headers: { ...signedHeaders(creds, raw), 'content-type': 'application/json' },
          body: raw,
        }).catch(() => null);
        const ms = Date.now() - t0;
        slowest = Math.max(slowest, ms);
        assert.ok(ms < 8000, `request ${i} took ${ms} ms (a hang)`);
        if (!r) {
          count(0);
          uncertain.add(`chaos ${i}`);
        } else {
          count(r.status);
          assert.notEqual(r.status, 500, `500 for request ${i}: ${JSON.stringify(r.body)}`);
          if (r.status === 202) {
            accepted.add(r.body.data.event_id);
            return;
          }
          assert.ok([503, 429].includes(r.status), `unexpected ${r.status} for request ${i}: ${JSON.stringify(r.body)}`);
          if (r.status === 503) uncertain.add(`chaos ${i}`);
        }
        assert.ok(attempt < 200, `request ${i} never accepted`);
        await sleep(250);
      }
    }

    /** Watches the API while a store is down: what a load balancer and a backend would see. */
    function probeDuring(outage: Promise<void>): Promise<Probe[]> {
      const seen: Probe[] = [];
      let done = false;
      void outage.finally(() => (done = true));
      return (async () => {
        while (!done) {
          const t0 = Date.now();
          const r = await call(api.url, 'GET', '/readyz').catch(() => null);
          seen.push({ status: r?.status ?? 0, ms: Date.now() - t0 });
          await sleep(150);
        }
        await outage;
        return seen;
      })();
    }

    // The sender: CONCURRENCY requests in flight until TOTAL are accepted.
    let next = 0;
    const CONCURRENCY = 16;
    const sending = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await sendOne(next++);
      }),
    );
    const at = (fraction: number) => eventually(async () => accepted.size >= TOTAL * fraction, TOTAL * 200, 50);

    // Beside the callbacks, one at a time, through the same faults: the k-th of n items waits for the
    // fault at its fraction k/n, so each stream's items meet every outage as it starts. Each is retried
    // as its client would (accepted-load.ts).
    const other = new Accepted();
    const spread = (n: number, one: (i: number) => Promise<unknown>) =>
      (async () => {
        for (let i = 0; i < n; i++) {
          for (const g of gates) if (i >= n * g.fraction) await g.opened;
          await one(i);
        }
      })();
    const streams = Promise.all([
      spread(CHALLENGES, () => sendChallenge(api.url, mixed, userHash, other)),
      spread(SUDO, () => sendSudo(api.url, mixed, linkId, other)),
      spread(MESSAGES, (i) => visitor.say(`chaos message ${i}`, other)),
    ]);
    // The paired device answers what it is shown: approves every sudo request and challenge of ours. An
    // answer refused as already resolved was counted before (its reply was lost): the events say.
    const answered = new Set<string>();
    const answerStatuses = new Map<number, number>();
    let streaming = true;
    const approver = (async () => {
      const ours = (q: OpenRequest) => other.sudo.has(q.request_id) || other.challenges.has(q.request_id);
      const pendingSudo = () => [...other.sudo.keys()].filter((id) => !answered.has(id));
      for (const until = Date.now() + TOTAL * 300; streaming || pendingSudo().length;) {
        assert.ok(Date.now() < until, `the device never got to answer ${pendingSudo().length} sudo requests`);
        const r = await device.poll().catch(() => null);
        for (const q of r?.status === 200 ? (r.body.data.requests as OpenRequest[]) : []) {
          if (!ours(q) || answered.has(q.request_id)) continue;
          const a = await device.answerOpen(q, 'approve').catch(() => null);
          answerStatuses.set(a?.status ?? 0, (answerStatuses.get(a?.status ?? 0) ?? 0) + 1);
          if (a?.status === 200 || a?.status === 409) answered.add(q.request_id);
          else assert.ok(!a || [429, 503].includes(a.status), `device answer ${a?.status}: ${JSON.stringify(a?.body)}`);
        }
        await sleep(200);
      }
    })();

    // The chaos, at fixed points of the sending.
    const outages: { what: string; probes: Probe[]; recoveredMs: number }[] = [];
    async function outage(what: string, run: () => Promise<void>) {
      const probes = await probeDuring(run());
      const t0 = Date.now();
      await eventually(async () => (await call(api.url, 'GET', '/readyz').catch(() => null))?.status === 200, 30_000, 100);
      outages.push({ what, probes, recoveredMs: Date.now() - t0 });
    }
    await at(0.15);
    await workers[0]!.kill('SIGKILL');
    fault(0.15);
    workers.push(await spawnWorker(relay.env));
    await at(0.35);
    await outage('Redis SIGKILLed, down 3 s, restarted from its AOF', () => {
      const restarting = services.restart('redis', { how: 'kill', downMs: 3000 });
      fault(0.35);
      return restarting;
    });
    await at(0.55);
    await workers[1]!.kill('SIGKILL');
    fault(0.55);
    workers.push(await spawnWorker(relay.env));
    await at(0.75);
    await outage('FerretDB stopped, down 3 s, restarted', () => {
      const restarting = services.restart('ferretdb', { how: 'term', downMs: 3000 });
      fault(0.75);
      return restarting;
    });
    await sending;
    await streams;
    streaming = false;
    await approver;
    const sentMs = Date.now() - started;

    // Every accepted event reaches the receiver with a 2xx at least once.
    const delivered = () => {
      const ok = new Set<string>();
      for (const r of receiver.received) if (r.answeredStatus === 200) ok.add(String(r.headers['x-bloonio-event-id']));
      return ok;
    };
    /** For a failure report: the jobs (any state) and delivery records of some events, the queue's counts, the workers' last words. */
    const whereAreTheirJobs = async (eventIds: string[]) => {
      const ids = new Set(eventIds.slice(0, 20));
      const lines: string[] = [];
      for (const q of [relay.producer.queue(QUEUE.webhookDelivery), relay.producer.queue(QUEUE.chatHistory)]) {
        lines.push(`${q.name} counts ${JSON.stringify(await q.getJobCounts())}`);
        for (const job of await q.getJobs(['active', 'wait', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'])) {
          const d = job.data as { eventId?: string; callback?: { eventId?: string } };
          const id = d.eventId ?? d.callback?.eventId;
          if (id && ids.has(id))
            lines.push(
              `${q.name} job ${job.id} (${job.name}) for ${id}: ${await job.getState()}, attemptsMade ${job.attemptsMade}, ` +
                `stalled ${String((job as unknown as { stalledCounter?: number }).stalledCounter ?? '?')}, failedReason ${job.failedReason ?? '-'}`,
            );
        }
      }
      const records = await mongoose.connection
        .db!.collection('deliveries')
        .find({ event_id: { $in: [...ids] } })
        .toArray();
      for (const r of records)
        lines.push(
          `delivery ${String(r._id)} of ${String(r.event_id)}: ${String(r.status)}, ${String(r.attempt_count)} attempts, next ${String(r.next_attempt_at)}`,
        );
      return `${lines.join('\n')}\nworkers' output:\n${workers.map((w) => w.output().slice(-3000)).join('\n---\n')}`;
    };
    /**
     * Why deliveries stopped, in a few lines that fit the failure message (CI shows a log's tail, where
     * mocha repeats the message): the receiver's last request, each worker's life, the queue's state
     * and each tenant's slots and circuit.
     */
    const whyStalled = async () => {
      const now = Date.now();
      const last = receiver.received.at(-1);
      const lastOk = receiver.received.findLast((r) => r.answeredStatus === 200);
      const lines = [
        `receiver: ${receiver.received.length} requests, the last ${last ? now - last.at : '-'} ms ago, the last 2xx ${lastOk ? now - lastOk.at : '-'} ms ago (sending ended ${now - started - sentMs} ms ago)`,
      ];
      for (const [i, w] of workers.entries()) {
        const tail = w.output().trim().split('\n').slice(-4).join(' | ').slice(-600);
        lines.push(
          `worker ${i} (pid ${w.proc.pid}): exit ${w.proc.exitCode ?? '-'} signal ${w.proc.signalCode ?? '-'}; last lines: ${tail}`,
        );
      }
      const q = relay.producer.queue(QUEUE.webhookDelivery);
      const client = (await q.client) as unknown as Redis;
      const marker = await client.zrange(q.keys.marker!, 0, -1, 'WITHSCORES').catch((e: Error) => e.message);
      lines.push(
        `${q.name}: ${JSON.stringify(await q.getJobCounts())}, paused ${String(await q.isPaused())}, ` +
          `limiter pttl ${await client.pttl(q.keys.limiter!)}, marker ${JSON.stringify(marker)}, workers ${(await q.getWorkers()).length}`,
      );
      for (const t of tenants) {
        const inflight = redisKey.deliveryInflight(relay.config.queuePrefix, t.tenantId);
        lines.push(
          `tenant ${t.tenantId}: ${await client.zcard(inflight)} slots held, circuit pttl ${await client.pttl(redisKey.deliveryCircuit(relay.config.queuePrefix, t.tenantId))}`,
        );
      }
      return lines.join('\n');
    };
    await eventually(
      async () => {
        const ok = delivered(); // once per check: per id it was O(accepted × received), a core's worth at 10,000
        return [...accepted].every((id) => ok.has(id));
      },
      Math.max(180_000, TOTAL * 60),
      500,
    ).catch(async () => {
      const missing = [...accepted].filter((id) => !delivered().has(id));
      const why = await whyStalled().catch((e: Error) => `(no state: ${e.message})`);
      console.log(await whereAreTheirJobs(missing).catch((e: Error) => `(no jobs: ${e.message})`));
      assert.fail(`${missing.length} of ${accepted.size} accepted events never delivered, e.g. ${missing.slice(0, 3).join(', ')}\n${why}`);
    });
    const ok = delivered();
    const requests = receiver.received.length;
    const injected = receiver.received.filter((r) => r.answeredStatus !== 200).length;
    const perEvent = new Map<string, number>();
    for (const r of receiver.received) {
      const id = String(r.headers['x-bloonio-event-id']);
      perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
    }
    assert.equal(accepted.size, TOTAL);
    // Only our events: each delivered event was accepted, or is the twin of a send whose first try had
    // no certain answer (a retry of the same note).
    const notes = new Map<string, string>();
    for (const r of receiver.received)
      notes.set(String(r.headers['x-bloonio-event-id']), String((JSON.parse(r.body) as { data?: { note?: string } }).data?.note));
    const twins = [...ok].filter((id) => !accepted.has(id));
    const strangers = twins.filter((id) => !uncertain.has(notes.get(id) ?? ''));
    assert.deepEqual(
      strangers,
      [],
      `events delivered that no send of ours can explain: ${strangers.map((id) => `${id} (${notes.get(id)})`).join(', ')}`,
    );
    console.log(`      ${twins.length} events delivered beside their retry's (a first try without a certain answer)`);
    // While a store was down the API answered 503 quickly, never 500; it recovered by itself.
    for (const o of outages) {
      assert.ok(
        o.probes.some((p) => p.status === 503),
        `${o.what}: /readyz answered 503 while down (${o.probes.map((p) => p.status).join(',')})`,
      );
      assert.ok(
        o.probes.every((p) => p.status !== 500 && p.ms < 3000),
        `${o.what}: quick answers, no 500`,
      );
    }
    assert.equal(statuses.get(500) ?? 0, 0);

    // The auth and chat work: every challenge and message in MongoDB once (messages under their acked
    // numbers), every event of that tenant delivered; every sudo dispatch approved, its ApprovalEvent
    // delivered (2xx) with that decision and no other.
    const approvalEvents = () => {
      const byEvent = new Map<string, Set<string>>();
      for (const r of mixedReceiver.received) {
        if (r.headers['x-bloonio-event-type'] !== 'sudo.approval_event' || r.answeredStatus !== 200) continue;
        const data = (JSON.parse(r.body) as { data: { event_id: string; status: string } }).data;
        byEvent.set(data.event_id, (byEvent.get(data.event_id) ?? new Set()).add(data.status));
      }
      return byEvent;
    };
    let f: Findings | undefined;
    await eventually(
      async () => {
        f = await findings(mixed.tenantId, other, mixedReceiver.received);
        const events = approvalEvents();
        return complete(f) && f.figures.deliveries >= f.figures.events && [...other.sudo.keys()].every((id) => events.has(id));
      },
      Math.max(120_000, TOTAL * 60),
      500,
    ).catch(() => undefined);
    if (f && !complete(f)) console.log(await whereAreTheirJobs([...f.undelivered, ...f.missing.callbacks].map((u) => u.split(' ')[0]!)));
    assert.ok(f && complete(f), f ? describeFindings(f) : 'no findings');
    assert.equal(f.figures.deliveries, f.figures.events);
    assert.equal(other.challenges.size, CHALLENGES);
    assert.equal(other.messages.size, MESSAGES);
    assert.equal(other.sudo.size, SUDO);
    assert.equal(f.figures.approvals, CHALLENGES + SUDO, 'one approval request per challenge and per sudo dispatch');
    const decided = approvalEvents();
    const notApproved = [...other.sudo.keys()].filter((id) => [...(decided.get(id) ?? [])].join() !== 'approved');
    assert.deepEqual(
      notApproved,
      [],
      `sudo events without exactly one decision, approved: ${notApproved.map((id) => `${id}: ${[...(decided.get(id) ?? [])].join('/') || 'none'}`).join(', ')}`,
    );
    console.log(
      `      chaos: ${TOTAL} callbacks accepted in ${(sentMs / 1000).toFixed(1)} s, ${ok.size} delivered (every event at least once, 0 lost) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${requests} deliveries received, ${injected} answered 5xx by the receiver, ${requests - injected - ok.size} duplicate 2xx; ` +
        `API answers while sending: ${[...statuses].map(([s, n]) => `${s || 'network error'}: ${n}`).join(', ')} (slowest ${slowest} ms); ` +
        `beside them ${other.challenges.size} challenges, ${other.sudo.size} sudo dispatches and ${other.messages.size} chat messages (retries and resends: ${other.refusalSummary()}; device answers ${[...answerStatuses].map(([k, n]) => `${k || 'network error'}: ${n}`).join(', ')}), ` +
        `all in MongoDB once, ${f.figures.messages} messages numbered without a repeat (${f.figures.holes} numbers unused), ${decided.size} ApprovalEvents delivered, approved; ` +
        `2 worker SIGKILLs; ${outages.map((o) => `${o.what}: ${o.probes.filter((p) => p.status === 503).length} × 503 on /readyz, ready again ${o.recoveredMs} ms after restart`).join('; ')}`,
    );
  });
});
