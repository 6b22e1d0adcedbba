/**
 * The chat's per-conversation Redis state (models/chat/conversation-state.ts) checked the way a user or an
 * ops engineer would: real `ws` clients and HTTP against two API processes, real Redis and FerretDB.
 * Failures are made on the stores themselves, never mocked: the state hash is DELeted as a Redis
 * restart without persistence would; a stale mark plus a direct MongoDB write (and a lock nobody
 * releases) is what a process dying between its MongoDB write and its Redis write leaves behind.
 *
 * Visitors sit on API 1 and operators on API 2 unless said otherwise, so every message also crosses
 * the Redis fan-out.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { LEASE } from '../../models/chat/conversation-state.js';
import { ConversationModel, type ConversationDoc } from '../../models/chat/conversation.js';
import { MessageModel } from '../../models/chat/message.js';
import { apiRedis } from '../../platform/redis.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import {
  asOperator,
  assignedConversation,
  connect,
  provisionOperator,
  wsUrl,
  type ChatClient,
  type Frame,
} from '../support/chat-client.js';
import { IN_FLIGHT_GIVE_UP_MS } from '../../api/chat/ws/sequencer.js';
import { eventually, sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const isMsg = (text: string) => (f: Frame) => f.type === 'message' && f.message?.text === text;
/** Long enough for a frame that should not arrive (a duplicate, a misrouted message) to have shown up. */
const QUIET_MS = 400;
/** models/chat/conversation-lock.ts: how long a dead holder's lock outlives it. */
const LOCK_TTL_MS = 5000;

/** A socket that also notes when each message frame arrived (by sequence number), to measure stalls. */
type Client = ChatClient & { at: Map<number, number> };

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const messagesOf = (c: ChatClient) => c.frames.filter((f) => f.type === 'message').map((f) => f.message as Frame);
const seqsOf = (c: ChatClient) => messagesOf(c).map((m) => m.seq as number);
const errorsOf = (c: ChatClient) => c.frames.filter((f) => f.type === 'error');

describe('chat conversation state (Redis hash, leases, stale marks)', function () {
  this.timeout(180_000);
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  let creds: TenantCreds;
  /** The test's own Redis connection, to break the state the way an outage would. */
  let redis: Redis;
  const clients: ChatClient[] = [];

  before(async () => {
    // Test 3 sends 400+ messages from one session as fast as it can: lift the visitor flood limits.
    relay = await startRelay('chat_state', { CHAT_MESSAGES_PER_SESSION_PER_MIN: '100000', CHAT_MESSAGES_PER_TENANT_PER_SEC: '100000' });
    [api1, api2] = await Promise.all([spawnApi(relay.env), spawnApi(relay.env)]);
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN], rate_limit_per_min: 10_000 });
    redis = apiRedis(relay.config.redisUrl);
    // MongoDB gets the messages from the chat-history worker.
    await relay.startWorker();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all([api1?.kill(), api2?.kill()]);
    await redis?.quit();
    await relay?.stop();
  });

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------
  function open(url: string, origin?: string): Client {
    const c = connect(url, origin ? { origin } : {});
    const at = new Map<number, number>();
    c.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type === 'message') at.set(f.message.seq as number, Date.now());
    });
    clients.push(c);
    return { ...c, at };
  }
  const visitorWs = (base: string, token: string, extra: Record<string, string | number> = {}) =>
    open(wsUrl(base, '/api/v1/ws/widget', { token, ...extra }), ORIGIN);
  const operatorWs = (base: string, token: string) => open(wsUrl(base, '/api/v1/ws/operator', { token }));

  /** The keys conversation-state.ts and conversation-lock.ts use (hash tag = tenant). */
  const stateKey = (cid: string) => `${relay.config.queuePrefix}:chat:{${creds.tenantId}}:cv:${cid}`;
  const lockKey = (cid: string) => `${relay.config.queuePrefix}:chat:{${creds.tenantId}}:lock:${cid}`;
  const storedConv = async (cid: string) => {
    const c = await ConversationModel.findOne({ _id: cid, tenant_id: creds.tenantId }).lean<ConversationDoc>();
    assert.ok(c, `conversation ${cid} in MongoDB`);
    return c;
  };
  const storedSeqs = async (cid: string) =>
    (await MessageModel.find({ tenant_id: creds.tenantId, conversation_id: cid }).sort({ seq: 1 }).lean()).map((m) => m.seq);
  /** MongoDB is written behind (the chat-history worker): waits until it holds exactly `expected`, then compares. */
  const storedExactly = async (cid: string, expected: number[], message?: string) => {
    await eventually(async () => JSON.stringify(await storedSeqs(cid)) === JSON.stringify(expected), 15_000).catch(() => undefined);
    assert.deepEqual(await storedSeqs(cid), expected, message);
  };
  const backendRead = (cid: string) => signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}&limit=500`);

  let ref = 0;
  /** Sends one message frame and waits for its ack: the number it got and when the frame was sent. */
  async function say(c: ChatClient, frame: Frame): Promise<{ seq: number; sentAt: number; cid: string }> {
    const clientId = `m${++ref}`;
    const sentAt = Date.now();
    c.send({ type: 'message', ...frame, client_id: clientId });
    const ack = await c.next((f) => f.type === 'ack' && f.client_id === clientId, 15_000);
    return { seq: ack.seq as number, sentAt, cid: ack.conversation_id as string };
  }

  /**
   * Waits until `c` has `n` message frames, then a little longer for anything extra to show up. The
   * deadline is generous: a loaded machine takes long to pass 100 messages, a lost one never arrives.
   */
  async function settle(c: ChatClient, n: number, ms = 60_000): Promise<void> {
    await eventually(async () => seqsOf(c).length >= n, ms).catch(() => {
      const have = new Set(seqsOf(c));
      const missing = range(1, n).filter((x) => !have.has(x));
      throw new Error(`${seqsOf(c).length} of ${n} messages within ${ms} ms; missing numbers: ${missing.join(', ')}`);
    });
    await sleep(QUIET_MS);
  }

  /**
   * A human-lane conversation on `routingKey`: the visitor (API 1) writes 'hello' (seq 1), the
   * operator (API 2) takes it over its socket; both have seen message 1 and the take on return.
   */
  async function assigned(routingKey: string, email: string) {
    const a = await assignedConversation({
      relayUrl: relay.baseUrl,
      visitorApi: api1.url,
      operatorApi: api2.url,
      creds,
      origin: ORIGIN,
      routingKey,
      email,
      visitorWs,
      operatorWs,
    });
    assert.equal(a.firstSeq, 1);
    return a;
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Redis loses the hash
  // ---------------------------------------------------------------------------------------------
  it('Redis loses the hash mid-conversation: numbering resumes after the last stored message (no number reused, no hole, no stall); last_seq is exact on every read and replay', async () => {
    const { s, operator, visitor, cid } = await assigned('loss', 'loss@example.com');
    await say(operator, { conversation_id: cid, text: 'before 2' });
    await say(visitor, { text: 'before 3' });
    await Promise.all([settle(visitor, 3), settle(operator, 3)]);
    assert.equal(await redis.exists(stateKey(cid)), 1, 'the state hash lives under the key conversation-state.ts documents');
    assert.equal((await storedConv(cid)).seq_reserved, LEASE, 'one lease reserved so far');

    // What a Redis restart without persistence does to this conversation.
    assert.equal(await redis.del(stateKey(cid)), 1);

    // A read that rebuilds the hash (an operator typing) must not move last_seq off the real last message.
    operator.send({ type: 'typing', conversation_id: cid, on: true });
    await visitor.next((f) => f.type === 'typing');
    assert.equal((await backendRead(cid)).body.data.conversation.last_seq, 3);

    const a = await say(visitor, { text: 'after 1' });
    const b = await say(operator, { conversation_id: cid, text: 'after 2' });
    const c = await say(visitor, { text: 'after 3' });
    assert.deepEqual([a.seq, b.seq, c.seq], [4, 5, 6], 'numbering continues after the last stored message');
    const expected = range(1, 6);

    // Every message, once, in order, on both sides, without the Sequencer's gap wait.
    await Promise.all([settle(visitor, 6), settle(operator, 6)]);
    for (const side of [visitor, operator]) {
      assert.deepEqual(seqsOf(side), expected);
      assert.deepEqual(
        messagesOf(side).map((m) => m.text),
        ['hello', 'before 2', 'before 3', 'after 1', 'after 2', 'after 3'],
      );
      assert.deepEqual(errorsOf(side), [], 'no error frame (no duplicate key, no busy conversation)');
      // A number missing from the store holds the next ones until the Sequencer gives up on it.
      const stall = (side.at.get(a.seq) ?? NaN) - a.sentAt;
      assert.ok(
        stall < IN_FLIGHT_GIVE_UP_MS,
        `first message after the loss delivered after ${stall} ms (the give-up on a number in flight: ${IN_FLIGHT_GIVE_UP_MS} ms)`,
      );
    }

    // The store agrees; the lease in MongoDB still covers these numbers.
    await storedExactly(cid, expected);
    assert.equal((await storedConv(cid)).seq_reserved, LEASE);
    const read = await backendRead(cid);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.conversation.last_seq, c.seq);
    assert.deepEqual(
      read.body.data.messages.map((m: Frame) => m.seq),
      expected,
    );

    // A visitor that saw up to 3 reconnects (on the other process): exactly the three it missed, at once.
    const again = visitorWs(api2.url, s.token, { last_seq: 3 });
    const welcome = await again.next((f) => f.type === 'welcome');
    const welcomedAt = Date.now();
    assert.equal(welcome.conversation.last_seq, c.seq);
    await settle(again, 3);
    assert.deepEqual(
      messagesOf(again).map((m) => [m.seq, m.text]),
      [
        [a.seq, 'after 1'],
        [b.seq, 'after 2'],
        [c.seq, 'after 3'],
      ],
    );
    assert.ok((again.at.get(c.seq) ?? NaN) - welcomedAt < 500, 'replayed at once');
  });

  // ---------------------------------------------------------------------------------------------
  // 2. Stale marks left by a process that died between its MongoDB write and its Redis write
  // ---------------------------------------------------------------------------------------------
  it('a stale mark after a reassignment written only to MongoDB: the next visitor message reaches the new assignee, not the one the hash names; the old one can no longer reply', async () => {
    const { operator: first, visitor, cid, op: a } = await assigned('stale-assign', 'stale-a@example.com');
    const b = await provisionOperator(relay.baseUrl, creds, 'stale-b@example.com', ['stale-assign']);
    const second = operatorWs(api1.url, b.token);
    await second.next((f) => f.type === 'welcome');
    assert.equal(await redis.hget(stateKey(cid), 'assignee'), a.id, 'the hash routes to A');

    // The dead process had marked the hash stale, then moved the conversation to B in MongoDB only.
    await redis.hset(stateKey(cid), 'stale', '1');
    await ConversationModel.updateOne(
      { _id: cid, tenant_id: creds.tenantId },
      { $set: { assignee_operator_id: b.id, assigned_at: new Date() } },
    );

    // A change that does not apply (A releasing what MongoDB gives to B) must leave that mark alone.
    first.send({ type: 'release', conversation_id: cid, ref: 'rel' });
    assert.equal((await first.next((f) => f.type === 'result' && f.ref === 'rel')).status, 409);
    assert.equal(await redis.hget(stateKey(cid), 'stale'), '1', 'a failed change keeps the mark it did not set');

    const m = await say(visitor, { text: 'who reads this?' });
    assert.equal(m.seq, 2);
    assert.equal((await second.next(isMsg('who reads this?'))).message.seq, 2);
    await sleep(QUIET_MS);
    assert.ok(!first.frames.some(isMsg('who reads this?')), 'the previous assignee does not get it');
    // The hash was rebuilt from MongoDB and is trusted again.
    assert.deepEqual(await redis.hmget(stateKey(cid), 'stale', 'assignee', 'status'), [null, b.id, 'assigned']);

    // Permissions follow MongoDB too: A is refused, B's reply reaches the visitor.
    first.send({ type: 'message', conversation_id: cid, text: 'from A' });
    assert.equal((await first.next((f) => f.type === 'error')).code, 'CONFLICT');
    await say(second, { conversation_id: cid, text: 'from B' });
    assert.equal((await visitor.next(isMsg('from B'))).message.seq, 3);
    await sleep(QUIET_MS);
    await storedExactly(cid, [1, 2, 3]);
    assert.ok(!visitor.frames.some(isMsg('from A')));
  });

  it('a stale mark after a resolve written only to MongoDB: the next visitor message reopens the conversation (pending, no assignee)', async () => {
    const { operator, visitor, cid } = await assigned('stale-resolve', 'stale-r@example.com');
    await redis.hset(stateKey(cid), 'stale', '1');
    await ConversationModel.updateOne({ _id: cid, tenant_id: creds.tenantId }, { $set: { status: 'resolved', resolved_at: new Date() } });
    assert.equal(await redis.hget(stateKey(cid), 'status'), 'assigned', 'the hash still says assigned');

    const m = await say(visitor, { text: 'one more thing' });
    assert.equal(m.seq, 2);
    const reopened = await operator.next((f) => f.type === 'conversation' && f.change === 'reopened');
    assert.equal(reopened.conversation.id, cid);
    assert.equal(reopened.conversation.status, 'pending');
    assert.equal(reopened.conversation.assignee_operator_id, null);
    assert.equal((await visitor.next((f) => f.type === 'status' && f.conversation.status === 'pending')).conversation.id, cid);
    const read = await backendRead(cid);
    assert.equal(read.body.data.conversation.status, 'pending');
    assert.equal(read.body.data.conversation.assignee_operator_id, null);
    assert.equal(read.body.data.conversation.last_seq, 2);
    assert.equal((await storedConv(cid)).status, 'pending');
    assert.deepEqual(await redis.hmget(stateKey(cid), 'stale', 'status', 'assignee'), [null, 'pending', '']);
  });

  it('while the dead process’s lock lives on (5 s TTL), a message to the stale conversation is refused with 503 + Retry-After, not stored and not misrouted; a retry after it expires goes through', async () => {
    const { operator: first, cid, op: a } = await assigned('stale-lock', 'stale-la@example.com');
    const b = await provisionOperator(relay.baseUrl, creds, 'stale-lb@example.com', ['stale-lock']);
    const second = operatorWs(api1.url, b.token);
    await second.next((f) => f.type === 'welcome');
    assert.equal(await redis.hget(stateKey(cid), 'assignee'), a.id);

    // Exactly what changeConversation leaves when its process dies after the MongoDB write.
    const diedAt = Date.now();
    await redis.set(lockKey(cid), 'token-of-a-dead-process', 'PX', LOCK_TTL_MS);
    await redis.hset(stateKey(cid), 'stale', '1');
    await ConversationModel.updateOne(
      { _id: cid, tenant_id: creds.tenantId },
      { $set: { assignee_operator_id: b.id, assigned_at: new Date() } },
    );

    const send = () =>
      signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'visitor', text: 'hello?' });
    const refused = await send();
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error?.code, 'STORE_UNAVAILABLE');
    assert.equal(refused.headers.get('retry-after'), '1');
    await storedExactly(cid, [1], 'nothing stored, no number taken');

    // A client honouring Retry-After: its retry waits for the lock to expire, then follows MongoDB.
    await sleep(1000);
    const retried = await send();
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.body.data.message.seq, 2);
    assert.ok(Date.now() - diedAt >= LOCK_TTL_MS - 100, 'not before the dead lock expired');
    await second.next(isMsg('hello?'));
    await sleep(QUIET_MS);
    assert.ok(!first.frames.some(isMsg('hello?')), 'never to the assignee the stale hash named');
  });

  // ---------------------------------------------------------------------------------------------
  // 3. Lease renewal
  // ---------------------------------------------------------------------------------------------
  it(`past two lease renewals (${2 * LEASE + 5} messages): numbers 1..N without a hole, seq_reserved ≥ N, and every read reports the live last_seq while MongoDB's lags`, async () => {
    const { s, op, operator, visitor, cid } = await assigned('lease', 'lease@example.com');
    const n = 2 * LEASE + 5;
    // Pipelined on one socket: the server handles a socket's frames one after the other.
    const ids = range(2, n).map((i) => `lease-${i}`);
    for (const id of ids) visitor.send({ type: 'message', text: id, client_id: id });
    await visitor.next((f) => f.type === 'ack' && f.client_id === ids.at(-1), 60_000);
    const acks = visitor.frames.filter((f) => f.type === 'ack' && ids.includes(f.client_id as string));
    assert.deepEqual(
      acks.map((f) => f.seq),
      range(2, n),
    );

    await Promise.all([settle(visitor, n), settle(operator, n)]);
    assert.deepEqual(seqsOf(visitor), range(1, n));
    assert.deepEqual(seqsOf(operator), range(1, n));
    assert.deepEqual(errorsOf(visitor), []);
    await storedExactly(cid, range(1, n));

    const stored = await storedConv(cid);
    assert.ok((stored.seq_reserved ?? 0) >= n, `seq_reserved ${stored.seq_reserved} ≥ ${n}`);
    assert.equal(stored.seq_reserved, 3 * LEASE, 'three leases, renewed in step');
    assert.ok(stored.last_seq < n, `MongoDB's last_seq lags (${stored.last_seq}): the live value comes from Redis`);

    const backend = await backendRead(cid);
    assert.equal(backend.body.data.conversation.last_seq, n);
    const asOp = await asOperator(api1.url, op.token, 'GET', `/operator/fetch/conversation?conversation_id=${cid}`);
    assert.equal(asOp.body.data.conversation.last_seq, n);
    const mine = await asOperator(api2.url, op.token, 'GET', '/operator/fetch/queue?status=assigned&mine=true');
    assert.equal(mine.body.data.conversations.find((c: Frame) => c.id === cid)?.last_seq, n);
    const welcome = await visitorWs(api2.url, s.token, { last_seq: n }).next((f) => f.type === 'welcome');
    assert.equal(welcome.conversation.last_seq, n);
  });

  // ---------------------------------------------------------------------------------------------
  // 4. Concurrency
  // ---------------------------------------------------------------------------------------------
  it('50 visitor messages (socket, API 1) and 50 operator replies (REST, all at once, API 1 and 2) interleaved: unique contiguous numbers, both sides see all in the same order, no stall', async () => {
    const { op, operator, visitor, cid } = await assigned('race', 'race@example.com');
    const started = Date.now();
    const visitorIds = range(1, 50).map((i) => `v-${i}`);
    const visitorDone = (async () => {
      for (const id of visitorIds) visitor.send({ type: 'message', text: id, client_id: id });
      await visitor.next((f) => f.type === 'ack' && f.client_id === visitorIds.at(-1), 30_000);
    })();
    const replies = Promise.all(
      range(1, 50).map((i) =>
        asOperator(i % 2 ? api1.url : api2.url, op.token, 'POST', '/operator/send/message', { conversation_id: cid, text: `o-${i}` }),
      ),
    );
    const [, answered] = await Promise.all([visitorDone, replies]);
    for (const r of answered) assert.equal(r.status, 201, JSON.stringify(r.body));

    const visitorSeqs = visitor.frames
      .filter((f) => f.type === 'ack' && visitorIds.includes(f.client_id as string))
      .map((f) => f.seq as number);
    const operatorSeqs = answered.map((r) => r.body.data.message.seq as number);
    assert.deepEqual(
      [1, ...visitorSeqs, ...operatorSeqs].sort((x, y) => x - y),
      range(1, 101),
      'unique and contiguous',
    );
    assert.deepEqual(
      visitorSeqs,
      [...visitorSeqs].sort((x, y) => x - y),
      "one socket's messages keep their order",
    );

    await Promise.all([settle(visitor, 101), settle(operator, 101)]);
    assert.deepEqual(seqsOf(visitor), range(1, 101));
    assert.deepEqual(
      messagesOf(operator).map((m) => m.id),
      messagesOf(visitor).map((m) => m.id),
      'the same messages in the same order on both sides',
    );
    await storedExactly(cid, range(1, 101));
    assert.deepEqual([...errorsOf(visitor), ...errorsOf(operator)], []);

    // No message waited for the Sequencer's give-up: gaps from crossed publications were filled from the store.
    const lags = [visitor, operator].flatMap((side) =>
      messagesOf(side)
        .slice(1)
        .map((m) => (side.at.get(m.seq) ?? NaN) - Date.parse(m.created_at)),
    );
    const worst = Math.max(...lags);
    console.log(`      101 messages in ${Date.now() - started} ms; worst store-to-socket delay ${worst} ms`);
    assert.ok(worst < IN_FLIGHT_GIVE_UP_MS, `worst delay ${worst} ms`);
  });
});
