/**
 * Sequencer edge cases (api/chat/ws/sequencer.ts) with real sockets, Redis and FerretDB: a message whose
 * write is slow (its number taken, a later number stored and published first) must still reach
 * every socket exactly once and in order — a live one, a tab that connects during the gap, and an
 * operator socket that starts following the conversation at the later number — however slow the
 * writer, while it lives; a number nobody will write must not stall the conversation for good; and
 * a publication the bus dropped must still arrive. The slow writer is staged with the relay's own
 * functions (models/chat): the number is taken as appendMessage takes it, and the message is made
 * readable and published the way appendMessage does, later.
 */
import assert from 'node:assert/strict';
import { apiRedis } from '../../platform/redis.js';
import { IN_FLIGHT_GIVE_UP_MS } from '../../api/chat/ws/sequencer.js';
import { nextSeq } from '../../models/chat/conversation-state.js';
import { MessageModel, messageView } from '../../models/chat/message.js';
import { abandonSeq, rememberMessage } from '../../models/chat/recent-messages.js';
import { newId } from '../../platform/ids.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { connect, createSession, provisionOperator, wsUrl, type ChatClient } from '../support/chat-client.js';
import { eventually, sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import type { Redis } from 'ioredis';

const ORIGIN = 'https://shop.example.com';
const seqs = (c: ChatClient) => c.frames.filter((f) => f.type === 'message').map((f) => f.message.seq as number);
/** When each message frame reached a socket, by sequence number. */
function arrivals(c: ChatClient): Map<number, number> {
  const at = new Map<number, number>();
  c.ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as { type: string; message?: { seq: number } };
    if (f.type === 'message' && f.message) at.set(f.message.seq, Date.now());
  });
  return at;
}

describe('chat sequencer: a slow write is never lost, a dead one never stalls', function () {
  this.timeout(90_000);
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  let creds: TenantCreds;
  let redis: Redis;
  let rk = 0;
  before(async () => {
    relay = await startRelay('chat_seq');
    [api1, api2] = await Promise.all([spawnApi(relay.env), spawnApi(relay.env)]);
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN], rate_limit_per_min: 10_000 });
    redis = apiRedis(relay.config.redisUrl);
  });
  after(async () => {
    await Promise.all([api1?.kill(), api2?.kill()]);
    await redis.quit();
    await relay?.stop();
  });
  const deps = () => ({ redis, config: relay.config });

  /** Takes the conversation's next number exactly as appendMessage does (and marks it in flight). */
  async function takeNumber(cid: string): Promise<number> {
    const state = await nextSeq(deps(), creds.tenantId, cid);
    assert.ok(state, 'the conversation has a state');
    return state.last_seq;
  }

  /** Finishes a slow write as appendMessage does: the recent set (what replays read), MongoDB, then the bus. */
  async function storeLate(cid: string, sessionId: string, routingKey: string, seq: number, text: string, publish = true): Promise<void> {
    const now = new Date();
    const doc = {
      _id: newId('msg'),
      tenant_id: creds.tenantId,
      conversation_id: cid,
      seq,
      sender_type: 'system',
      sender_id: null,
      text,
      created_at: now,
      updated_at: now,
    };
    await rememberMessage(deps(), creds.tenantId, messageView(doc));
    await MessageModel.collection.insertOne(doc as never);
    if (!publish) return;
    const bus = { tenant_id: creds.tenantId, session_id: sessionId, conversation_id: cid, routing_key: routingKey, assignee: null };
    await redis.publish(
      `${relay.config.queuePrefix}:chat:{${creds.tenantId}}`,
      JSON.stringify({ ...bus, kind: 'message', message: messageView(doc) }),
    );
  }
  const systemMessage = (cid: string, text: string) =>
    signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'system', text });

  /** A conversation on its own routing key with message 1, a live visitor socket (API 1) and an operator socket (API 2) that both saw it. */
  async function conversation() {
    const routingKey = `rk-${++rk}`;
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: routingKey });
    const op = await provisionOperator(relay.baseUrl, creds, `op${rk}@example.com`, [routingKey]);
    const operator = connect(wsUrl(api2.url, '/api/v1/ws/operator', { token: op.token }));
    await operator.next((f) => f.type === 'welcome');
    const live = connect(wsUrl(api1.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
    await live.next((f) => f.type === 'welcome');
    live.send({ type: 'message', text: 'm1', client_id: 'a' });
    const cid = (await live.next((f) => f.type === 'ack')).conversation_id as string;
    await Promise.all([live, operator].map((c) => c.next((f) => f.type === 'message' && f.message.seq === 1)));
    return { s, op, cid, routingKey, live, operator, liveAt: arrivals(live), operatorAt: arrivals(operator) };
  }

  it('number 2 stored 1 s after 3: the live socket, a tab connected during the gap (last_seq=1) and a new operator socket each get 2, 3 and 4 once', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'rk' });
    const live = connect(wsUrl(api1.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
    await live.next((f) => f.type === 'welcome');
    live.send({ type: 'message', text: 'm1', client_id: 'a' });
    const cid = (await live.next((f) => f.type === 'ack')).conversation_id as string;
    await live.next((f) => f.type === 'message' && f.message.seq === 1);
    // A process takes number 2 and its write is slow.
    assert.equal(await takeNumber(cid), 2);
    // Meanwhile another message is stored and published as 3.
    const r3 = await systemMessage(cid, 'm3');
    assert.equal(r3.body.data.message.seq, 3);
    // A visitor tab connects now with last_seq=1, an operator connects now (no sequencer for cid yet).
    const tab = connect(wsUrl(api2.url, '/api/v1/ws/widget', { token: s.token, last_seq: 1 }), { origin: ORIGIN });
    const op = await provisionOperator(relay.baseUrl, creds, 'op@example.com', ['rk']);
    const ows = connect(wsUrl(api2.url, '/api/v1/ws/operator', { token: op.token }));
    await ows.next((f) => f.type === 'welcome');
    await tab.next((f) => f.type === 'welcome');
    // The write completes 1 s later and is published, exactly as appendMessage does.
    await sleep(1000);
    await storeLate(cid, s.sessionId, 'rk', 2, 'm2 (slow)');
    await systemMessage(cid, 'm4');
    await eventually(async () => seqs(live).length >= 4 && seqs(tab).length >= 3 && seqs(ows).length >= 3, 30_000).catch(() => undefined);
    await sleep(400); // room for a duplicate to show
    assert.deepEqual(seqs(live), [1, 2, 3, 4]);
    assert.deepEqual(seqs(tab), [2, 3, 4]);
    // The operator socket began following at 3; 2 was new to it, so it comes late rather than never.
    assert.deepEqual([...seqs(ows)].sort(), [2, 3, 4]);
    for (const c of [live, tab, ows]) c.ws.close();
  });

  it('an operator socket whose first message of a conversation is 3 still gets 2, published 300 ms later by another process', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'rk2' });
    const c = await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId });
    const cid = c.body.data.conversation.id as string;
    const op = await provisionOperator(relay.baseUrl, creds, 'op2@example.com', ['rk2']);
    const ows = connect(wsUrl(api2.url, '/api/v1/ws/operator', { token: op.token }));
    await ows.next((f) => f.type === 'welcome');
    await systemMessage(cid, 'warm'); // seq 1, leases
    await ows.next((f) => f.type === 'message' && f.message.seq === 1);
    // fresh operator socket that has never seen this conversation
    const ows2 = connect(wsUrl(api1.url, '/api/v1/ws/operator', { token: op.token }));
    await ows2.next((f) => f.type === 'welcome');
    const n = await takeNumber(cid); // 2 taken, slow write
    await systemMessage(cid, 'm3');
    await sleep(300);
    await storeLate(cid, s.sessionId, 'rk2', n, 'm2 (slow 300ms)');
    await eventually(async () => seqs(ows).length >= 3 && seqs(ows2).length >= 2, 30_000).catch(() => undefined);
    await sleep(400);
    assert.deepEqual(seqs(ows), [1, 2, 3]);
    assert.deepEqual(seqs(ows2), [3, 2]);
    ows.ws.close();
    ows2.ws.close();
  });

  it('a writer slower than a busy reader expects (half the give-up): every socket waits for its message and shows 2 before 3', async () => {
    // The reader's own clock must not decide: under load a socket's process sees every message late.
    const { s, cid, routingKey, live, operator } = await conversation();
    assert.equal(await takeNumber(cid), 2);
    await systemMessage(cid, 'm3');
    await sleep(IN_FLIGHT_GIVE_UP_MS / 2);
    assert.deepEqual([seqs(live), seqs(operator)], [[1], [1]], '3 waits while 2 is in flight');
    await storeLate(cid, s.sessionId, routingKey, 2, 'm2 (slow)');
    await eventually(async () => seqs(live).length >= 3 && seqs(operator).length >= 3, 30_000).catch(() => undefined);
    await sleep(400);
    assert.deepEqual(seqs(live), [1, 2, 3]);
    assert.deepEqual(seqs(operator), [1, 2, 3]);
    live.ws.close();
    operator.ws.close();
  });

  it('a writer that died after taking its number: readers wait for it, then pass over it once it has been in flight IN_FLIGHT_GIVE_UP_MS (Redis time)', async () => {
    const { cid, live, operator, liveAt, operatorAt } = await conversation();
    const taken = Date.now();
    assert.equal(await takeNumber(cid), 2); // and nothing more: the writer is gone
    const r3 = await systemMessage(cid, 'm3');
    assert.equal(r3.body.data.message.seq, 3);
    await eventually(async () => seqs(live).length >= 2 && seqs(operator).length >= 2, IN_FLIGHT_GIVE_UP_MS + 30_000);
    assert.deepEqual(seqs(live), [1, 3]);
    assert.deepEqual(seqs(operator), [1, 3]);
    for (const at of [liveAt, operatorAt]) {
      const waited = (at.get(3) ?? NaN) - taken;
      assert.ok(waited >= IN_FLIGHT_GIVE_UP_MS - 50, `3 delivered ${waited} ms after 2 was taken, before the give-up`);
    }
    live.ws.close();
    operator.ws.close();
  });

  it('a number that will never be written (its store job could not be queued) is passed over without waiting for the give-up', async () => {
    const { cid, live, operator, liveAt, operatorAt } = await conversation();
    const n = await takeNumber(cid);
    // appendMessage's answer to a failed enqueue: the number leaves flight without a message.
    await abandonSeq(deps(), creds.tenantId, cid, n);
    const sent = Date.now();
    await systemMessage(cid, 'm3');
    await eventually(async () => seqs(live).length >= 2 && seqs(operator).length >= 2, IN_FLIGHT_GIVE_UP_MS + 30_000);
    assert.deepEqual(
      [seqs(live), seqs(operator)],
      [
        [1, 3],
        [1, 3],
      ],
    );
    for (const at of [liveAt, operatorAt]) {
      const waited = (at.get(3) ?? NaN) - sent;
      assert.ok(waited < IN_FLIGHT_GIVE_UP_MS, `3 delivered ${waited} ms after it was sent: it waited for the give-up`);
    }
    live.ws.close();
    operator.ws.close();
  });

  it("a conversation's last message published while the processes' subscribers were reconnecting still reaches every socket", async () => {
    const { s, cid, routingKey, live, operator } = await conversation();
    // Message 2 is written as appendMessage writes it, but its publication is lost: no later message
    // will show the gap. Then every subscriber connection drops and reconnects.
    await storeLate(cid, s.sessionId, routingKey, await takeNumber(cid), 'm2 (publication lost)', false);
    await sleep(500);
    assert.deepEqual([seqs(live), seqs(operator)], [[1], [1]]);
    const killed = Number(await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    assert.ok(killed >= 2, `${killed} subscriber connections dropped`);
    await eventually(async () => seqs(live).length >= 2 && seqs(operator).length >= 2, 30_000).catch(() => undefined);
    await sleep(400);
    assert.deepEqual(seqs(live), [1, 2]);
    assert.deepEqual(seqs(operator), [1, 2]);
    // And the bus works again.
    await systemMessage(cid, 'm3');
    await Promise.all([live, operator].map((c) => c.next((f) => f.type === 'message' && f.message.seq === 3, 30_000)));
    live.ws.close();
    operator.ws.close();
  });
});
