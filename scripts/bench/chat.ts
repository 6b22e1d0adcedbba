/**
 * Chat Relay benchmark (issues 4, 10): 2,000 visitor sockets and 50 operator sockets on 2 API processes
 * (api/server.ts, real Redis + MongoDB/FerretDB) and one worker (workers/index.ts: it writes the
 * messages into MongoDB, in batches, behind the sockets); each visitor's conversation is assigned to an
 * operator connected to the *other* API process, so every message crosses the Redis fan-out. Then
 * visitors send BENCH_RATE messages/s for BENCH_SECONDS; the figure is visitor → operator delivery
 * latency (visitor's send → the operator's socket receives the stored, sequenced message), p50/p99.
 * Also: the memory the API processes add per idle visitor socket, twice: plain RSS (which also holds
 * the garbage the socket openings left behind) and, after a full GC triggered through the V8
 * inspector, RSS and V8 heap (what the relay keeps per socket). A warm-up message per visitor (not
 * measured) first puts each conversation's state in Redis, as for any conversation under way.
 *
 *   npm run bench:chat                       (the scenario chat.fanout)
 *
 * The baseline, first and in the same run: the same sockets and load on a bare `ws` server that only
 * forwards each visitor's frame to its operator's socket (scripts/bench/ws-relay.ts).
 *
 * Knobs (env): BENCH_VISITORS (2000), BENCH_OPERATORS (50), BENCH_RATE (500), BENCH_SECONDS (20),
 * BENCH_CPU_PROF (a directory: both API processes write V8 CPU profiles there; the p99 then includes
 * the profiler's own cost).
 * Targets from the issue: p99 ≤ 25 ms, ≤ 20 KB per idle visitor socket. The clients run in this one
 * process (on the same machine as the relay), so the figures include their own event-loop delays.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { mintVisitorToken, widgetKeyHash } from '../../api/principals/visitor.js';
import { ConversationModel } from '../../models/chat/conversation.js';
import { SESSION_LIFETIME_MS, VisitorSessionModel } from '../../models/chat/visitor-session.js';
import { parseConfig } from '../../platform/config.js';
import { newId } from '../../platform/ids.js';
import { connectMongo, disconnectMongo } from '../../platform/mongo.js';
import { sign } from '../../platform/signing.js';
import {
  ADMIN_KEY,
  benchEnv,
  cleanUp,
  cpuProfArgs,
  fmt,
  percentile,
  sleep,
  startApi,
  startHelper,
  startWorker,
  table,
  type Figure,
} from './common.js';
import os from 'node:os';
import { INSPECT_ARGS, memoryAfterGc, type Memory } from './inspector.js';
import { scenario, type Defer } from './scenario.js';

const VISITORS = Number(process.env.BENCH_VISITORS ?? 2000);
const OPERATORS = Number(process.env.BENCH_OPERATORS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ORIGIN = 'https://bench.example.com';

// Plumbing (own database and queue prefix, child processes always stopped, clean-up) is shared
// with the other benchmarks in scripts/bench/common.ts.

function rssKb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

async function pool<T>(n: number, parallel: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

/** Sends RATE messages/s for SECONDS from random sockets of `vws`, in 10 ms ticks; `mark` notes when each left. */
async function drive(vws: WebSocket[], mark: (id: string) => void, prefix: string): Promise<number> {
  const total = RATE * SECONDS;
  let sent = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      for (; sent < due; sent++) {
        const id = `${prefix}${sent}`;
        const ws = vws[Math.floor(Math.random() * vws.length)]!;
        mark(id);
        ws.send(JSON.stringify({ type: 'message', text: id, client_id: id }));
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  return sent;
}

/** The baseline: the same sockets and load through a bare ws server that forwards visitor → operator. */
async function bareWsBaseline(): Promise<{ p50: number; p99: number; delivered: number; sent: number }> {
  const srv = await startHelper('scripts/bench/ws-relay.ts');
  const url = srv.url.replace('http', 'ws');
  const socks: WebSocket[] = [];
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const open = (u: string, onMsg?: (f: any) => void) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(u);
      socks.push(ws);
      ws.on('message', (d) => {
        const f = JSON.parse(String(d));
        if (f.type === 'welcome') return resolve(ws);
        onMsg?.(f);
      });
      ws.on('error', reject);
    });
  try {
    await pool(OPERATORS, 10, (j) =>
      open(`${url}/?op=${j}`, (f) => {
        const t0 = sentAt.get(f.message?.text);
        if (t0 !== undefined) lat.push(performance.now() - t0);
      }),
    );
    const vws = await pool(VISITORS, 100, (i) => open(`${url}/?to=${i % OPERATORS}`));
    await drive(vws.slice(0, Math.min(200, vws.length)), (id) => sentAt.set(id, performance.now()), 'w'); // warm-up (JIT)
    lat.length = 0;
    sentAt.clear();
    const sent = await drive(vws, (id) => sentAt.set(id, performance.now()), 'x');
    const until = Date.now() + 5000;
    while (lat.length < sent && Date.now() < until) await sleep(50);
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), delivered: lat.length, sent };
  } finally {
    for (const ws of socks) ws.terminate();
    await srv.stop();
  }
}

/**
 * The bare ws baseline first (measured before any relay process runs), then the relay: two API
 * processes and a worker, the tenant, its operators, and the visitors' sessions and conversations.
 */
async function setup(defer: Defer) {
  console.error(
    `bench: baseline, a bare ws server forwarding visitor → operator, ${VISITORS} + ${OPERATORS} sockets, ${RATE} msg/s for ${SECONDS} s`,
  );
  const bare = await bareWsBaseline();
  console.error(`bench: baseline p50 ${fmt(bare.p50, 1)} ms, p99 ${fmt(bare.p99, 1)} ms (${bare.delivered}/${bare.sent})`);
  const env = benchEnv('chat', {
    CHAT_SESSIONS_PER_IP_PER_HOUR: '1000000',
    CHAT_MESSAGES_PER_SESSION_PER_MIN: '100000',
    // One tenant carries the whole load here; its cap (200/s by default) would refuse most of it.
    CHAT_MESSAGES_PER_TENANT_PER_SEC: '100000',
    CHAT_CONNECTIONS_PER_TENANT: '1000000',
    CHAT_CONNECTS_PER_TENANT_PER_MIN: '10000000',
    // Every socket comes from this one host: the per-IP socket cap (200 by default) would refuse most.
    CHAT_WS_MAX_PER_IP: '1000000',
  });
  // The inspector lets the benchmark collect garbage in the API processes before reading their memory.
  const apiArgs = [...INSPECT_ARGS, ...cpuProfArgs()];
  defer('clean-up', () => cleanUp(env));
  defer('disconnecting MongoDB', () => disconnectMongo().catch(() => undefined));
  const apis = await Promise.all([startApi(env, apiArgs), startApi(env, apiArgs)]);
  defer('stopping the API processes', () => Promise.all(apis.map((a) => a.stop())));
  const worker = await startWorker(env);
  defer('stopping the worker', () => worker.stop());
  const sockets: WebSocket[] = [];
  defer('closing the sockets', () => {
    for (const ws of sockets) ws.terminate();
  });
  const prov = await fetch(`${apis[0]!.url}/api/v1/provision/tenant`, {
    method: 'POST',
    headers: { 'X-Admin-Key': ADMIN_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant_name: 'bench-chat', rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] }),
  });
  const pd = ((await prov.json()) as { data: { tenant_id: string; tenant_secret: string; widget_public_key: string } }).data;
  const tenant = { tenantId: pd.tenant_id, secret: pd.tenant_secret };
  const widgetKey = { data: { widget_public_key: pd.widget_public_key } };
  const signedPost = async (url: string, path: string, body: unknown) => {
    const raw = JSON.stringify(body);
    const ts = String(Date.now());
    const r = await fetch(`${url}/api/v1${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Bloonio-Tenant-Id': tenant.tenantId,
        'X-Bloonio-Timestamp': ts,
        'X-Bloonio-Signature': sign(tenant.secret, ts, raw),
      },
      body: raw,
    });
    const j = (await r.json()) as { data: Record<string, any> };
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
    return j.data;
  };

  // 1. Operators, sessions, conversations, assignments (visitor i ↔ operator i % OPERATORS).
  console.error(`bench: setting up ${OPERATORS} operators (API) and ${VISITORS} visitor sessions (MongoDB)`);
  const ops = await pool(OPERATORS, 10, async (j) => {
    const p = await signedPost(apis[0].url, '/relay/provision/operator', { email: `op${j}@bench.example.com`, display_name: `Op ${j}` });
    const t = await signedPost(apis[0].url, '/relay/mint/operator-token', { operator_id: p.operator_id });
    return { id: p.operator_id as string, token: t.operator_token as string };
  });
  // Sessions and assigned conversations are written straight to MongoDB and the visitor tokens minted
  // with the relay's own key (a setup shortcut: 6,000 HTTP calls against FerretDB take minutes; the
  // routes themselves are covered by test/chat-*.test.ts). The measured path is all sockets + API.
  const config = parseConfig(env);
  await connectMongo(config.mongodbUri);
  const expires = new Date(Date.now() + SESSION_LIFETIME_MS);
  const rows = Array.from({ length: VISITORS }, (_, i) => ({ sid: newId('vs'), cid: newId('cnv'), op: ops[i % OPERATORS]!.id }));
  await VisitorSessionModel.insertMany(
    rows.map((r) => ({
      _id: r.sid,
      tenant_id: tenant.tenantId,
      origin: ORIGIN,
      mode: 'human',
      conversation_id: r.cid,
      expires_at: expires,
    })),
  );
  await ConversationModel.insertMany(
    rows.map((r) => ({
      _id: r.cid,
      tenant_id: tenant.tenantId,
      session_id: r.sid,
      status: 'assigned',
      assignee_operator_id: r.op,
      assigned_at: new Date(),
      last_seq: 0,
    })),
  );
  const wkh = widgetKeyHash(widgetKey.data.widget_public_key);
  const visitors = rows.map((r) => ({
    token: mintVisitorToken(config, { tid: tenant.tenantId, sid: r.sid, wkh, org: ORIGIN }, 3600).token,
    conversationId: r.cid,
  }));
  return { bare, apis, ops, visitors, sockets };
}

/** Operator and visitor sockets (with the API processes' memory before and after), a warm-up, then the load. */
async function measure({ apis, ops, visitors, sockets }: Awaited<ReturnType<typeof setup>>) {
  // 2. Operator sockets: operator j on API j % 2; its visitors on the other API.
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let dupes = 0;
  const seen = new Set<string>();
  await Promise.all(
    ops.map(
      (op, j) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`${apis[j % 2]!.url.replace('http', 'ws')}/api/v1/ws/operator?token=${op.token}`);
          sockets.push(ws);
          ws.on('message', (d) => {
            const f = JSON.parse(String(d));
            if (f.type === 'welcome') return resolve();
            if (f.type !== 'message' || f.message.sender_type !== 'visitor') return;
            const id = f.message.text as string;
            const t0 = sentAt.get(id);
            if (t0 === undefined) return;
            if (seen.has(id)) dupes++;
            else latencies.push(performance.now() - t0);
            seen.add(id);
          });
          ws.on('error', reject);
        }),
    ),
  );

  // 3. Visitor sockets, with the API processes' memory before and after.
  await sleep(2000);
  const rssBefore = apis.map((a) => rssKb(a.proc.pid));
  const memBefore = await Promise.all(apis.map((a) => memoryAfterGc(a)));
  console.error(`bench: opening ${VISITORS} visitor sockets`);
  let opened = 0;
  const openStarted = Date.now();
  const progress = setInterval(
    () => console.error(`bench: ${opened}/${VISITORS} visitor sockets open after ${Math.round((Date.now() - openStarted) / 1000)} s`),
    10_000,
  );
  const vws = await pool(
    VISITORS,
    100,
    (i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${apis[(i + 1) % 2]!.url.replace('http', 'ws')}/api/v1/ws/widget?token=${visitors[i]!.token}`, {
          origin: ORIGIN,
        });
        sockets.push(ws);
        ws.on('message', (d) => {
          if (JSON.parse(String(d)).type === 'welcome') {
            opened++;
            resolve(ws);
          }
        });
        ws.on('error', reject);
        ws.on('close', (code) => code >= 4000 && reject(new Error(`visitor socket closed ${code}`)));
      }),
  );
  clearInterval(progress);
  console.error(`bench: ${VISITORS} visitor sockets open in ${Math.round((Date.now() - openStarted) / 1000)} s`);
  await sleep(5000);
  const rssAfter = apis.map((a) => rssKb(a.proc.pid));
  const perSocketKb = (rssAfter.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0)) / VISITORS;
  const memAfter = await Promise.all(apis.map((a) => memoryAfterGc(a)));
  const perSocket = (k: keyof Memory) =>
    (memAfter.reduce((a, m) => a + m[k], 0) - memBefore.reduce((a, m) => a + m[k], 0)) / VISITORS / 1024;

  // 4. Warm-up (not measured): one message per visitor, so each conversation's routing state and
  // sequence lease are in Redis, as they are for any conversation that is under way.
  console.error(`bench: warm-up, one message per visitor`);
  await pool(
    VISITORS,
    50,
    (i) =>
      new Promise<void>((resolve) => {
        const ws = vws[i]!;
        const onAck = (d: WebSocket.RawData) => {
          const f = JSON.parse(String(d));
          if (f.type === 'error') throw new Error(`warm-up message refused: ${JSON.stringify(f)}`);
          if (f.type !== 'ack') return;
          ws.off('message', onAck);
          resolve();
        };
        ws.on('message', onAck);
        ws.send(JSON.stringify({ type: 'message', text: `warm-up ${i}` }));
      }),
  );
  await sleep(2000);

  // The visitor's ack (stored, sequenced, published) against the operator's copy: the difference is the fan-out.
  const ackLatencies: number[] = [];
  for (const ws of vws)
    ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      const t0 = f.type === 'ack' ? sentAt.get(f.client_id) : undefined;
      if (t0 !== undefined) ackLatencies.push(performance.now() - t0);
    });

  // 5. Load: RATE messages per second for SECONDS, from random visitors, in 10 ms ticks.
  console.error(`bench: ${RATE} msg/s for ${SECONDS} s`);
  const total = RATE * SECONDS;
  const sent = await drive(vws, (id) => sentAt.set(id, performance.now()), 'b');
  const until = Date.now() + 10_000;
  while (latencies.length < total && Date.now() < until) await sleep(100);
  return { latencies, ackLatencies, dupes, sent, rssBefore, rssAfter, perSocketKb, perSocket };
}

function report(r: Awaited<ReturnType<typeof measure>>, { bare }: Awaited<ReturnType<typeof setup>>): Figure[] {
  const { latencies, ackLatencies, dupes, sent, rssBefore, rssAfter, perSocketKb, perSocket } = r;
  latencies.sort((a, b) => a - b);
  ackLatencies.sort((a, b) => a - b);
  const pctOf = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
  const pct = (p: number) => pctOf(latencies, p);
  console.log(
    JSON.stringify({
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, node: process.version, load1: os.loadavg()[0] },
      visitors: VISITORS,
      operators: OPERATORS,
      rate: RATE,
      seconds: SECONDS,
    }),
  );
  console.log(
    table(
      ['metric', 'value'],
      [
        ['bare ws baseline: latency p50 / p99 (ms)', `${fmt(bare.p50, 1)} / ${fmt(bare.p99, 1)}`],
        ['messages sent', sent],
        ['delivered to the operator', latencies.length],
        ['duplicates', dupes],
        ['latency p50 (ms)', fmt(pct(50), 1)],
        ['latency p90 (ms)', fmt(pct(90), 1)],
        ['latency p99 (ms)', fmt(pct(99), 1)],
        ['latency max (ms)', fmt(latencies.at(-1) ?? NaN, 1)],
        ["visitor's ack p50 / p99 (ms): stored + published", `${fmt(pctOf(ackLatencies, 50), 1)} / ${fmt(pctOf(ackLatencies, 99), 1)}`],
        ['API RSS before visitors (MB)', rssBefore.map((k) => fmt(k / 1024, 0)).join(' + ')],
        ['API RSS with idle visitors (MB)', rssAfter.map((k) => fmt(k / 1024, 0)).join(' + ')],
        ['added RSS per idle visitor socket (KB)', fmt(perSocketKb, 1)],
        ['after a full GC: added RSS per idle visitor socket (KB)', fmt(perSocket('rss'), 1)],
        ['after a full GC: added V8 heap per idle visitor socket (KB)', fmt(perSocket('heapUsed'), 1)],
        ['after a full GC: added external memory per idle visitor socket (KB)', fmt(perSocket('external'), 1)],
      ],
    ),
  );
  const p99 = pct(99);
  const met = p99 <= 25 && latencies.length === sent && dupes === 0;
  console.log(`visitor → operator p99 ${fmt(p99, 1)} ms (target <= 25 ms): ${met ? 'met' : 'NOT met'}`);
  return [
    {
      figure: `chat visitor → operator p99, ${VISITORS} sockets, ${RATE} msg/s`,
      value: Number(p99.toFixed(1)),
      unit: 'ms',
      baseline: { name: 'bare ws forward p99', value: Number(bare.p99.toFixed(1)) },
      target: '≤ 25 ms, every message once',
      met,
    },
  ];
}

export const scenarios = [
  scenario({
    name: 'chat.fanout',
    about: 'visitor → operator latency across two API processes and the Redis fan-out, against a bare ws forward; memory per idle socket',
    setup,
    run: measure,
    report,
  }),
];
