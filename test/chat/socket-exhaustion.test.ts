/**
 * Issue 20, "unauthenticated socket exhaustion": upgrade requests that no chat socket takes are
 * answered and closed, a handshake that never completes is closed at its deadline, and the per-IP
 * and global socket caps refuse clearly. Against a separate `web` process (api/server.ts), whose open
 * descriptors the test counts in /proc.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import WebSocket from 'ws';
import { mintVisitorToken } from '../../api/principals/visitor.js';
import { redisKey } from '../../platform/keys.js';
import { connect, createSession, wsUrl } from '../support/chat-client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPrivateRedis } from '../support/private-redis.js';
import { provision } from '../support/client.js';
import { eventually, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

type Answer = { status: number; closedByServer: boolean; ms: number };

/** One raw upgrade request; resolves with the status line's code and whether the server closed the socket in time. */
function rawUpgrade(url: string, request: string, withinMs: number): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname, () => s.write(request));
    let got = '';
    const done = (closedByServer: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), closedByServer, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(false), withinMs);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('end', () => done(true));
    s.on('close', () => done(true));
    s.on('error', () => undefined);
  });
}

const upgradeTo = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: relay.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
const KEY = () => `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`;

/** A visitor socket carrying an X-Forwarded-For; resolves with 'welcome', or the HTTP refusal of the upgrade. */
function visitorSocket(url: string, xff: string): Promise<{ ws: WebSocket; status: number; retryAfter: string | undefined }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { origin: ORIGIN, headers: { 'X-Forwarded-For': xff } });
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as { type?: string }).type === 'welcome') resolve({ ws, status: 101, retryAfter: undefined });
    });
    ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    ws.on('error', () => undefined);
  });
}

describe('chat sockets: upgrades are answered, bounded in time and capped', function () {
  this.timeout(180_000);
  let relay: Relay;
  let api: Child;
  let capped: Child;
  const open: WebSocket[] = [];

  before(async () => {
    relay = await startRelay('ws_exhaust');
    [api, capped] = await Promise.all([
      spawnApi({ ...relay.env, CHAT_WS_HANDSHAKE_TIMEOUT_MS: '1000' }),
      spawnApi({ ...relay.env, TRUST_PROXY: 'true', CHAT_WS_MAX_PER_IP: '3', CHAT_WS_MAX_TOTAL: '5' }),
    ]);
  });
  after(async () => {
    for (const ws of open) ws.terminate();
    await Promise.all([api?.kill(), capped?.kill()]);
    await relay?.stop();
  });

  it('2,000 upgrades to paths that are no socket (and malformed ones) are each answered 404/400 and closed; descriptors stay flat', async () => {
    const pid = api.proc.pid!;
    // Warm up (the first requests open the process's lazily created handles), then measure.
    for (let i = 0; i < 20; i++) await fetch(`${api.url}/healthz`).then((r) => r.text());
    await Promise.all(Array.from({ length: 20 }, () => rawUpgrade(api.url, upgradeTo('/healthz', KEY()), 2000)));
    const before = fdCount(pid);
    const requests = [
      () => upgradeTo('/healthz', KEY()),
      () => upgradeTo('/', KEY()),
      () => upgradeTo('/api/v1/ws/nothing-here', KEY()),
      () => upgradeTo('/api/v1/ws/widget?token=x'), // no Sec-WebSocket-Key: malformed
    ];
    const answers: Answer[] = [];
    let peakDuring = before;
    for (let batch = 0; batch < 20; batch++) {
      const sent = Array.from({ length: 100 }, (_, i) => rawUpgrade(api.url, requests[(batch * 100 + i) % requests.length]!(), 10_000));
      peakDuring = Math.max(peakDuring, fdCount(pid));
      answers.push(...(await Promise.all(sent)));
      if (answers.some((a) => !a.closedByServer)) break; // no use waiting out 19 more batches
    }
    const unanswered = answers.filter((a) => a.status !== 404 && a.status !== 400);
    const leftOpen = answers.filter((a) => !a.closedByServer);
    assert.equal(
      leftOpen.length,
      0,
      `${leftOpen.length} of ${answers.length} upgrades were still open after 10 s (${fdCount(pid) - before} more descriptors open)`,
    );
    assert.equal(unanswered.length, 0, `${unanswered.length} of 2000 upgrades got no 404/400 (e.g. status ${unanswered[0]?.status})`);
    assert.equal(answers.length, 2000);
    assert.equal(answers.filter((a) => a.status === 400).length, 500, 'the malformed upgrades on a socket path get 400');
    // Flat: back to what it held before the run, within a few handles (timers, a Redis reconnect).
    const after = await eventually(async () => {
      const n = fdCount(pid);
      return n <= before + 5 ? n : null;
    }, 10_000).catch(() => fdCount(pid));
    assert.ok(after <= before + 5, `open descriptors: ${before} before, ${after} after 2,000 upgrades (peak seen ${peakDuring})`);
  });

  it('a handshake that never completes is closed at the deadline (CHAT_WS_HANDSHAKE_TIMEOUT_MS)', async () => {
    // Headers never finished: the request never becomes an upgrade; the server's header deadline closes it.
    const partial = await rawUpgrade(
      api.url,
      `GET /api/v1/ws/widget?token=x HTTP/1.1\r\nHost: relay.test\r\nUpgrade: websocket\r\n`,
      15_000,
    );
    assert.equal(partial.closedByServer, true, `a half-sent upgrade was still open after ${partial.ms} ms (deadline 1000 ms)`);
    assert.equal(partial.status, 408);
    assert.ok(partial.ms >= 900, `closed after ${partial.ms} ms, before the deadline`);
    // Nothing sent at all: the same deadline.
    const silent = await rawUpgrade(api.url, '', 15_000);
    assert.equal(silent.closedByServer, true, `a silent connection was still open after ${silent.ms} ms`);
  });

  it('a socket whose authentication hangs (its Redis paused) is closed at the deadline with 4408', async () => {
    const redis = await startPrivateRedis('ws_deadline');
    let slow: Child | undefined;
    try {
      slow = await spawnApi({ ...relay.env, REDIS_URL: redis.url, CHAT_WS_HANDSHAKE_TIMEOUT_MS: '1000' });
      // A well-signed token of a tenant nobody cached: its check must ask Redis, which no longer answers.
      const tid = `tnt_${randomBytes(12).toString('hex')}`;
      const token = mintVisitorToken(relay.config, { tid, sid: 'vs_x', wkh: 'x', org: ORIGIN }, 600).token;
      process.kill(redis.pid(), 'SIGSTOP');
      const t0 = Date.now();
      const c = connect(wsUrl(slow.url, '/api/v1/ws/widget', { token }), { origin: ORIGIN });
      const closed = await c.closed;
      assert.equal(
        closed.code,
        4408,
        `closed with ${closed.code} ${closed.reason} after ${Date.now() - t0} ms, not at the 1000 ms handshake deadline`,
      );
      assert.match(closed.reason, /handshake/);
    } finally {
      process.kill(redis.pid(), 'SIGCONT');
      await slow?.kill();
      await redis.destroy();
    }
  });

  it('a replay slower than the deadline (MongoDB answering late) still arrives after the welcome: the deadline bounds the handshake only', async () => {
    const proxy = await new FaultProxy(Number(new URL(relay.env.MONGODB_URI!).port)).start();
    const redis = new Redis(relay.env.REDIS_URL!);
    let slowDb: Child | undefined;
    try {
      await relay.startWorker(); // stores the messages in MongoDB
      const uri = new URL(relay.env.MONGODB_URI!);
      uri.port = String(proxy.port);
      slowDb = await spawnApi({ ...relay.env, MONGODB_URI: uri.toString(), CHAT_WS_HANDSHAKE_TIMEOUT_MS: '1000' });
      const creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
      const s = await createSession(slowDb.url, creds, ORIGIN, { mode: 'human' });
      const first = connect(wsUrl(slowDb.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
      await first.next((f) => f.type === 'welcome');
      let cid = '';
      for (const n of [1, 2, 3]) {
        first.send({ type: 'message', text: `m${n}`, client_id: `c${n}` });
        cid = (await first.next((f) => f.type === 'ack' && f.client_id === `c${n}`)).conversation_id;
      }
      await first.close();
      // Stored, then the conversation's recent set gone (expired, or Redis lost it): the replay reads MongoDB.
      const stored = mongoose.connection.db!.collection('chat_messages');
      await eventually(async () => (await stored.countDocuments({ conversation_id: cid })) === 3, 30_000);
      await redis.del(redisKey.conversationRecent(relay.config.queuePrefix, creds.tenantId, cid));

      proxy.delayAnswers((request) => request.includes('chat_messages'), 2500);
      const again = connect(wsUrl(slowDb.url, '/api/v1/ws/widget', { token: s.token, last_seq: 0 }), { origin: ORIGIN });
      await again.next((f) => f.type === 'welcome');
      await again.next((f) => f.type === 'message' && f.message?.seq === 3, 30_000);
      assert.ok(proxy.delayed > 0, 'the replay read MongoDB through the slowed connection');
      assert.deepEqual(
        again.frames.filter((f) => f.type === 'message').map((f) => f.message.text),
        ['m1', 'm2', 'm3'],
      );
      await again.close();
    } finally {
      proxy.delayAnswers(null);
      await slowDb?.kill();
      await proxy.stop();
      redis.disconnect();
    }
  });

  it('per-IP and global caps on pending and open sockets: 429 / 503 with Retry-After, released on close', async () => {
    const creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
    const s = await createSession(relay.baseUrl, creds, ORIGIN);
    const url = wsUrl(capped.url, '/api/v1/ws/widget', { token: s.token });
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await visitorSocket(url, '10.0.0.1'));
    open.push(...a.map((x) => x.ws));
    assert.deepEqual(
      a.map((x) => x.status),
      [101, 101, 101],
    );
    const overIp = await visitorSocket(url, '10.0.0.1');
    assert.equal(overIp.status, 429, 'the fourth socket of one IP is refused');
    assert.ok(Number(overIp.retryAfter) > 0, 'with Retry-After');
    const b = [await visitorSocket(url, '10.0.0.2'), await visitorSocket(url, '10.0.0.2')];
    open.push(...b.map((x) => x.ws));
    assert.deepEqual(
      b.map((x) => x.status),
      [101, 101],
      'another IP still connects',
    );
    const overAll = await visitorSocket(url, '10.0.0.3');
    assert.equal(overAll.status, 503, 'past the global cap every IP is refused');
    assert.ok(Number(overAll.retryAfter) > 0, 'with Retry-After');
    // Closing one frees its place.
    a[0]!.ws.close();
    const again = await eventually(async () => {
      const r = await visitorSocket(url, '10.0.0.3');
      if (r.status === 101) return r;
      r.ws.terminate();
      return null;
    }, 10_000);
    open.push(again.ws);
  });
});
