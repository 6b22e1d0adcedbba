/**
 * Chaos (issue 9): callbacks keep their promise while everything around them fails. Real processes
 * (a spawned API and spawned workers), real Redis and FerretDB (restarted in place through
 * scripts/services-ctl.sh). While CHAOS_CALLBACKS signed test-callbacks are sent (1,000 in CI,
 * `npm run chaos` for 10,000), the receiver answers 5xx at random 30% of the time and:
 *   (a) the worker is SIGKILLed twice (a new one is started each time);
 *   (b) Redis is SIGKILLed and restarted from its AOF (appendfsync always: nothing it acknowledged
 *       is lost);
 *   (c) FerretDB is stopped and restarted.
 * Every accepted event reaches the receiver with a 2xx at least once; none is lost; while a store is
 * down the API answers 503 quickly (never 500, never a hang) and recovers by itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Receiver } from '../fakes/receiver.js';
import { call, provision, signedHeaders, type TenantCreds } from '../support/client.js';
import { eventually, sleep, spawnApi, spawnWorker, startRelay, type Child, type Relay } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOTAL = Number(process.env.CHAOS_CALLBACKS ?? 1000);
const TENANTS = 4;
const FAIL_RATE = 0.3;

/** Restart one local service in place, keeping it down `downMs` so callers meet the outage. */
function restartService(name: 'redis' | 'ferretdb', how: 'kill' | 'term', downMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['scripts/services-ctl.sh', 'restart', name, how, String(downMs)], { cwd: ROOT, stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`services-ctl restart ${name}: exit ${code}`))));
  });
}

type Probe = { status: number; ms: number };

describe('chaos: callbacks survive worker kills, a Redis crash and a FerretDB restart', function () {
  this.timeout(Math.max(300_000, TOTAL * 200));
  let relay: Relay;
  let api: Child;
  const workers: Child[] = [];
  let receiver: Receiver;
  const tenants: TenantCreds[] = [];

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
      DELIVERY_SWEEP_EVERY_MS: '2000',
      DELIVERY_SWEEP_GRACE_MS: '4000',
      JOB_LOCK_MS: '3000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    relay = await startRelay('chaos', env);
    receiver = await new Receiver().start();
    receiver.answerWith(() => (Math.random() < FAIL_RATE ? { status: 503 } : { status: 200 }));
    for (let i = 0; i < TENANTS; i++)
      tenants.push(await provision(relay.baseUrl, { callback_url_base: receiver.url, rate_limit_per_min: 10_000 }));
    api = await spawnApi(relay.env);
    workers.push(await spawnWorker(relay.env));
  });
  after(async () => {
    for (const w of workers) await w.kill('SIGKILL').catch(() => undefined);
    await api?.kill().catch(() => undefined);
    await receiver?.stop();
    await relay?.stop();
  });

  it(`${TOTAL} callbacks, 30% answered 5xx, 2 worker SIGKILLs, Redis crash + AOF restart, FerretDB restart: all delivered`, async () => {
    const started = Date.now();
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    let slowest = 0;

    /** One signed test-callback, retried on 503/429/network errors as a tenant's backend would. */
    async function sendOne(i: number): Promise<void> {
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
        } else {
          count(r.status);
          assert.notEqual(r.status, 500, `500 for request ${i}: ${JSON.stringify(r.body)}`);
          if (r.status === 202) {
            accepted.add(r.body.data.event_id);
            return;
          }
          assert.ok([503, 429].includes(r.status), `unexpected ${r.status} for request ${i}: ${JSON.stringify(r.body)}`);
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
    workers.push(await spawnWorker(relay.env));
    await at(0.35);
    await outage('Redis SIGKILLed, down 3 s, restarted from its AOF', () => restartService('redis', 'kill', 3000));
    await at(0.55);
    await workers[1]!.kill('SIGKILL');
    workers.push(await spawnWorker(relay.env));
    await at(0.75);
    await outage('FerretDB stopped, down 3 s, restarted', () => restartService('ferretdb', 'term', 3000));
    await sending;
    const sentMs = Date.now() - started;

    // Every accepted event reaches the receiver with a 2xx at least once.
    const delivered = () => {
      const ok = new Set<string>();
      for (const r of receiver.received) if (r.answeredStatus === 200) ok.add(String(r.headers['x-bloonio-event-id']));
      return ok;
    };
    await eventually(async () => [...accepted].every((id) => delivered().has(id)), Math.max(180_000, TOTAL * 60), 500).catch(() => {
      const missing = [...accepted].filter((id) => !delivered().has(id));
      assert.fail(`${missing.length} of ${accepted.size} accepted events never delivered, e.g. ${missing.slice(0, 3).join(', ')}`);
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
    assert.ok(
      [...ok].every((id) => accepted.has(id)),
      'only our events',
    );
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
    console.log(
      `      chaos: ${TOTAL} callbacks accepted in ${(sentMs / 1000).toFixed(1)} s, ${ok.size} delivered (every event at least once, 0 lost) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${requests} deliveries received, ${injected} answered 5xx by the receiver, ${requests - injected - ok.size} duplicate 2xx; ` +
        `API answers while sending: ${[...statuses].map(([s, n]) => `${s || 'network error'}: ${n}`).join(', ')} (slowest ${slowest} ms); ` +
        `2 worker SIGKILLs; ${outages.map((o) => `${o.what}: ${o.probes.filter((p) => p.status === 503).length} × 503 on /readyz, ready again ${o.recoveredMs} ms after restart`).join('; ')}`,
    );
  });
});
