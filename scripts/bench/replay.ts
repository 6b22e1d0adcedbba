/**
 * Reconnect replay (issue 10): a visitor's widget reconnects with `last_seq = n − 50` and gets the 50
 * messages it missed; the time from opening the socket to the 50th message, p50/p99 over
 * BENCH_RECONNECTS reconnects, with 1,000 messages stored, then with 100,000 (the other 99,000 in
 * other conversations, inserted straight into MongoDB as the chat-history worker would have written
 * them). Target: p99 at 100k ≤ 2× p99 at 1k — replays read the conversation's recent set in Redis
 * (models/chat/recent-messages.ts), not MongoDB, where FerretDB filters a conversation's messages by
 * scanning the whole collection. For the record, the same replay with the recent set gone (a
 * conversation idle past its lifetime) reads MongoDB: that row shows what the recent set saves.
 *
 *   npm run bench:replay                     (the scenario replay.reconnect)
 *
 * Real processes: the `web` process and one `worker`. Knobs (env): BENCH_RECONNECTS (200),
 * BENCH_STORED (comma list, default 1000,100000), BENCH_COLD_RECONNECTS (5).
 */
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import WebSocket from 'ws';
import { newId } from '../../platform/ids.js';
import { ADMIN_KEY, benchEnv, cleanUp, fmt, machine, percentile, sleep, startApi, startWorker, table, type Figure } from './common.js';
import { scenario, type Defer } from './scenario.js';

const RECONNECTS = Number(process.env.BENCH_RECONNECTS ?? 200);
const COLD = Number(process.env.BENCH_COLD_RECONNECTS ?? 5);
const STORED = (process.env.BENCH_STORED ?? '1000,100000').split(',').map(Number);
const ORIGIN = 'https://bench.example.com';
const MISSED = 50;

type Conn = { ws: WebSocket; frames: any[]; wait: (pred: (f: any) => boolean, ms?: number) => Promise<any> };

function connect(url: string): Conn {
  const ws = new WebSocket(url, { origin: ORIGIN });
  const frames: any[] = [];
  const waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(String(d));
    frames.push(f);
    for (const w of [...waiters]) {
      if (!w.pred(f)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(f);
    }
  });
  return {
    ws,
    frames,
    wait: (pred, ms = 15_000) =>
      new Promise((resolve, reject) => {
        const hit = frames.find(pred);
        if (hit) return resolve(hit);
        const t = setTimeout(() => reject(new Error('socket frame not received in time')), ms);
        waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
      }),
  };
}

/** One API and one worker process, a tenant, and one visitor's conversation of 200 messages, stored. */
async function setup(defer: Defer) {
  // Every socket comes from this one host: the per-IP socket cap must not refuse its reconnect bursts.
  const env = benchEnv('replay', {
    CHAT_MESSAGES_PER_SESSION_PER_MIN: '100000',
    CHAT_CONNECTS_PER_TENANT_PER_MIN: '10000000',
    CHAT_WS_MAX_PER_IP: '1000000',
  });
  defer('clean-up', () => cleanUp(env));
  const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
  defer('closing Redis', () => redis.disconnect());
  const conn = await mongoose.createConnection(env.MONGODB_URI!, { serverSelectionTimeoutMS: 5000 }).asPromise();
  defer('closing MongoDB', () => conn.close());
  const api = await startApi(env);
  defer('stopping the api', () => api.stop());
  const worker = await startWorker(env);
  defer('stopping the worker', () => worker.stop());
  const prov = await fetch(`${api.url}/api/v1/provision/tenant`, {
    method: 'POST',
    headers: { 'X-Admin-Key': ADMIN_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant_name: 'bench-replay', rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] }),
  });
  const t = ((await prov.json()) as { data: { tenant_id: string; widget_public_key: string } }).data;
  const s = await fetch(`${api.url}/api/v1/create/visitor-session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: ORIGIN },
    body: JSON.stringify({ tenant_id: t.tenant_id, widget_public_key: t.widget_public_key, origin: ORIGIN, mode: 'human' }),
  });
  const token = ((await s.json()) as { data: { visitor_token: string } }).data.visitor_token;
  const wsUrl = (extra: string) => `${api.url.replace('http', 'ws')}/api/v1/ws/widget?token=${encodeURIComponent(token)}${extra}`;

  // The conversation: 200 messages through the socket, acknowledged one by one.
  const c = connect(wsUrl(''));
  await c.wait((f) => f.type === 'welcome');
  let cid = '';
  let last = 0;
  for (let i = 0; i < 200; i++) {
    c.ws.send(JSON.stringify({ type: 'message', text: `m${i}`, client_id: `c${i}` }));
    const ack = await c.wait((f) => f.type === 'ack' && f.client_id === `c${i}`);
    cid = ack.conversation_id;
    last = ack.seq;
  }
  c.ws.close();
  const messages = conn.db!.collection('chat_messages');
  while ((await messages.countDocuments({ _id: { $exists: true } })) < 200) await sleep(100);
  return { env, redis, messages, tenantId: t.tenant_id, cid, last, wsUrl };
}

/** For each size of BENCH_STORED: fill the collection up to it, then time the reconnects, warm and cold. */
async function measure({ env, redis, messages, tenantId, cid, last, wsUrl }: Awaited<ReturnType<typeof setup>>) {
  // A cold replay reads MongoDB, which FerretDB answers by scanning the collection: ~10 s at 100,000
  // messages here, more on a busy machine. Its wait is long; it is a row for the record.
  const reconnect = async (waitMs = 15_000) => {
    const t0 = performance.now();
    const r = connect(wsUrl(`&last_seq=${last - MISSED}`));
    await r.wait((f) => f.type === 'message' && f.message.seq === last, waitMs);
    const ms = performance.now() - t0;
    const got = r.frames.filter((f) => f.type === 'message').length;
    r.ws.close();
    if (got !== MISSED) throw new Error(`replay gave ${got} messages, expected ${MISSED}`);
    return ms;
  };

  const rows: (string | number)[][] = [];
  const p99s = new Map<number, number>();
  for (const stored of STORED) {
    // Fill the collection up to `stored` with other conversations' messages (as the worker writes them).
    let have = await messages.countDocuments({ _id: { $exists: true } });
    while (have < stored) {
      const n = Math.min(5000, stored - have);
      const other = newId('cnv');
      const now = new Date();
      await messages.insertMany(
        Array.from({ length: n }, (_, k) => ({
          _id: newId('msg'),
          tenant_id: tenantId,
          conversation_id: other,
          seq: k + 1,
          sender_type: 'visitor',
          sender_id: null,
          text: `filler ${k}`,
          created_at: now,
          updated_at: now,
        })) as never[],
        { ordered: false },
      );
      have += n;
    }
    for (let i = 0; i < 20; i++) await reconnect(); // warm-up
    const lat: number[] = [];
    for (let i = 0; i < RECONNECTS; i++) lat.push(await reconnect());
    p99s.set(stored, percentile(lat, 99));
    rows.push([`${stored} stored, recent set in Redis`, fmt(percentile(lat, 50), 1), fmt(percentile(lat, 99), 1), RECONNECTS]);
    console.error(`bench: ${stored} stored: p50 ${fmt(percentile(lat, 50), 1)} ms, p99 ${fmt(percentile(lat, 99), 1)} ms`);

    // For the record: the same replay once the recent set is gone (it is rebuilt by the next message only).
    const key = `${env.QUEUE_PREFIX}:chat:{${tenantId}}:recent:${cid}`;
    const saved = await redis.dumpBuffer(key);
    await redis.del(key);
    const cold: number[] = [];
    for (let i = 0; i < COLD; i++) cold.push(await reconnect(120_000));
    if (saved) await redis.restore(key, 0, saved, 'REPLACE');
    rows.push([`${stored} stored, recent set gone (MongoDB)`, fmt(percentile(cold, 50), 1), fmt(percentile(cold, 99), 1), COLD]);
  }
  return { rows, p99s };
}

async function report({ rows, p99s }: Awaited<ReturnType<typeof measure>>): Promise<Figure[]> {
  const m = await machine();
  console.log(
    `\nReconnect replay of ${MISSED} messages (socket open → the 50th message): one API and one worker process; ${m.cpus} CPUs (${m.cpu_model}), node ${m.node}, load ${m.load1}`,
  );
  console.log(table(['stored messages', 'p50 ms', 'p99 ms', 'reconnects'], rows));
  const small = p99s.get(STORED[0]!) ?? NaN;
  const big = p99s.get(STORED.at(-1)!) ?? NaN;
  const ratio = big / small;
  const met = ratio <= 2;
  console.log(`p99 at ${STORED.at(-1)} / p99 at ${STORED[0]}: ${fmt(ratio, 2)} (target <= 2): ${met ? 'met' : 'NOT met'}`);
  return [
    {
      figure: `reconnect replay of 50, p99 at ${STORED.at(-1)} stored`,
      value: Number(big.toFixed(1)),
      unit: 'ms',
      baseline: { name: `p99 at ${STORED[0]} stored`, value: Number(small.toFixed(1)) },
      target: '≤ 2× the p99 at 1k',
      met,
    },
  ];
}

export const scenarios = [
  scenario({
    name: 'replay.reconnect',
    about: 'reconnect replay of the 50 missed messages, p99 with 1k and with 100k messages stored',
    setup,
    run: measure,
    report,
  }),
];
