/**
 * One tenant's flood does not slow another (issue 4, abuse limits). Tenant A's visitors send far
 * more than CHAT_MESSAGES_PER_TENANT_PER_SEC from many sockets at once; tenant B's visitor, on the
 * same API process, keeps chatting. What B's user would notice is how long each message takes to be
 * stored and acknowledged: that is measured before and during the flood.
 *
 * Without the per-tenant cap this test fails: A stores far more than its cap (checked 2026-12-07 by
 * running it with the cap set out of reach). B's acknowledgement time is bounded by what it was before
 * the flood plus what the flood costs each step of its path in the process (GET /readyz, one Redis
 * round trip, timed beside it; once per round trip of a message), so a busy machine does not fail it;
 * B's messages queued behind A's stored ones would.
 */
import assert from 'node:assert/strict';
import { provision, type TenantCreds } from '../support/client.js';
import { connect, createSession, wsUrl, type ChatClient } from '../support/chat-client.js';
import { eventually, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const CAP_PER_SEC = 40;
const FLOOD_SOCKETS = 20;
const FLOOD_SECONDS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

describe('chat: a flood from one tenant does not slow another', function () {
  this.timeout(180_000);
  let relay: Relay;
  let api: Child;
  let a: TenantCreds;
  let b: TenantCreds;
  const clients: ChatClient[] = [];

  before(async () => {
    relay = await startRelay('chat_flood');
    api = await spawnApi({
      ...relay.env,
      CHAT_MESSAGES_PER_TENANT_PER_SEC: String(CAP_PER_SEC),
      CHAT_MESSAGES_PER_SESSION_PER_MIN: '100000',
      CHAT_SESSIONS_PER_IP_PER_HOUR: '100000',
    });
    [a, b] = await Promise.all([
      provision(relay.baseUrl, { allowed_origins: [ORIGIN] }),
      provision(relay.baseUrl, { allowed_origins: [ORIGIN] }),
    ]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await api?.kill();
    await relay?.stop();
  });

  async function visitor(creds: TenantCreds): Promise<ChatClient> {
    const s = await createSession(api.url, creds, ORIGIN, { mode: 'human' });
    const c = connect(wsUrl(api.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
    clients.push(c);
    await c.next((f) => f.type === 'welcome');
    return c;
  }

  /** Sends `n` messages, one every `everyMs`, and returns how long each took to be acknowledged (ms). */
  async function chat(c: ChatClient, tag: string, n: number, everyMs: number): Promise<number[]> {
    const waits: Promise<number>[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${tag}-${i}`;
      const t0 = performance.now();
      c.send({ type: 'message', text: `hello ${id}`, client_id: id });
      waits.push(
        c.next((f) => f.client_id === id, 20_000).then((f) => (assert.equal(f.type, 'ack', JSON.stringify(f)), performance.now() - t0)),
      );
      await sleep(everyMs);
    }
    return Promise.all(waits);
  }

  /**
   * Times `n` GET /readyz, one every `everyMs` (ms each): the API's answer time under its present load,
   * one Redis round trip on the connection the chat path uses (a PING queued behind the flood's
   * commands) and a MongoDB ping beside it.
   */
  async function pingReady(n: number, everyMs: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await fetch(`${api.url}/readyz`);
      await res.arrayBuffer();
      times.push(performance.now() - t0);
      await sleep(everyMs);
    }
    return times;
  }

  it("B's messages are acknowledged as fast during A's flood as before it; A is held to its cap with RATE_LIMITED error frames", async () => {
    const victim = await visitor(b);
    await chat(victim, 'warm', 3, 50); // the conversation exists and its state is in Redis
    const before = await chat(victim, 'before', 15, 100);

    const flooders = await Promise.all(Array.from({ length: FLOOD_SOCKETS }, () => visitor(a)));
    let sent = 0;
    const floodStart = Date.now();
    const flood = (async () => {
      for (const until = Date.now() + FLOOD_SECONDS * 1000; Date.now() < until;) {
        for (const f of flooders)
          for (let i = 0; i < 40; i++) f.send({ type: 'message', text: `spam ${sent++}`, client_id: `spam-${sent}` });
        await sleep(250);
      }
    })();
    await sleep(300); // the flood is under way
    // The floor, measured beside B's messages: how long the API process takes to answer a request that
    // makes one Redis round trip while it turns the flood away (on a busy machine that alone can be
    // hundreds of milliseconds: the flood's refusals queue on the same Redis connection).
    const [during, floor] = await Promise.all([chat(victim, 'during', 20, 100), pingReady(20, 100)]);
    await flood;
    // Every flood message gets its answer (an ack or a RATE_LIMITED error frame); on a slow machine the
    // API may still be working through the backlog, so wait for the count, not for a guessed time.
    const answers = () => {
      const acked = flooders.reduce((n, f) => n + f.frames.filter((x) => x.type === 'ack').length, 0);
      const limited = flooders.reduce((n, f) => n + f.frames.filter((x) => x.type === 'error' && x.code === 'RATE_LIMITED').length, 0);
      return { acked, limited };
    };
    await eventually(async () => {
      const { acked, limited } = answers();
      return acked + limited >= sent;
    }, 60_000).catch(() => undefined); // the assertion below says what was missing
    // The cap holds per fixed one-second window over the time the relay took to answer the flood (on a
    // slow machine longer than the flood itself): at most that many windows, plus the two it straddles.
    const answeredInS = Math.ceil((Date.now() - floodStart) / 1000);

    // A: what was stored stayed within the cap.
    const { acked, limited } = answers();
    assert.ok(sent > 10 * CAP_PER_SEC * FLOOD_SECONDS, `the flood was a flood (${sent} messages)`);
    assert.ok(acked <= CAP_PER_SEC * (answeredInS + 2), `A stored ${acked} messages in ${answeredInS} s`);
    assert.equal(acked + limited, sent, 'every flood message was either stored or refused with RATE_LIMITED');
    for (const f of flooders) assert.equal(f.ws.readyState, f.ws.OPEN, "A's sockets stay open (throttled, not cut off)");

    // B: no refusals, and the flood did not make it wait beyond what the process's own load costs
    // (the floor): behind A's stored messages, B's acknowledgements would take seconds. /readyz waits
    // for one Redis round trip queued behind the flood's; B's message waits for one per step of its
    // path (client_id claim, tenant cap, numbering, store job, recent set, fan-out, claim kept:
    // ROUND_TRIPS), so its floor is that many times /readyz's. Each of them may land on the worst
    // moment of the flood's bursts (a /readyz probe lands at a random moment of them): B's p90 is held
    // to that many of the worst round trip measured, its p90 before the flood added.
    const ROUND_TRIPS = 7;
    const p90Before = percentile(before, 90);
    const p90During = percentile(during, 90);
    const maxDuring = Math.max(...during);
    const p90Floor = percentile(floor, 90);
    const maxFloor = Math.max(...floor);
    assert.ok(
      p90During <= Math.max(3 * p90Before, p90Before + 100) + ROUND_TRIPS * maxFloor && maxDuring < 1000 + ROUND_TRIPS * maxFloor,
      `B's acknowledgements: p90 ${p90Before.toFixed(1)} ms before, ${p90During.toFixed(1)} ms during the flood (max ${maxDuring.toFixed(1)} ms); ` +
        `/readyz during the flood: p90 ${p90Floor.toFixed(1)} ms, max ${maxFloor.toFixed(1)} ms`,
    );
  });
});
