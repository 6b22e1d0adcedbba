/**
 * Sequencer edge cases (api/chat/ws/sequencer.ts) with real sockets, Redis and FerretDB: a message whose
 * insert is slow (its number taken, a later number stored and published first) must still reach
 * every socket exactly once — a live one, a tab that connects during the gap, and an operator socket
 * that starts following the conversation at the later number. The slow insert is staged on the
 * stores themselves: the number is taken with HINCRBY as the relay's script does, and the message
 * is stored and published the way appendMessage does, a moment later.
 */
import assert from 'node:assert/strict';
import { apiRedis } from '../../platform/redis.js';
import { MessageModel, messageView } from '../../models/chat/message.js';
import { newId } from '../../platform/ids.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { connect, createSession, provisionOperator, wsUrl, type ChatClient } from '../support/chat-client.js';
import { sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import type { Redis } from 'ioredis';

const ORIGIN = 'https://shop.example.com';
const seqs = (c: ChatClient) => c.frames.filter((f) => f.type === 'message').map((f) => f.message.seq);

describe('chat sequencer: a slow insert is never lost', function () {
  this.timeout(60_000);
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  let creds: TenantCreds;
  let redis: Redis;
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
  const key = (cid: string) => `${relay.config.queuePrefix}:chat:{${creds.tenantId}}:cv:${cid}`;

  /** Finishes a slow write: makes message `seq` readable and publishes it, as appendMessage does. */
  async function storeLate(cid: string, sessionId: string, routingKey: string, seq: number, text: string): Promise<void> {
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
    // As appendMessage and the chat-history worker do: the recent set (what replays read), then MongoDB.
    await redis.zadd(`${relay.config.queuePrefix}:chat:{${creds.tenantId}}:recent:${cid}`, seq, JSON.stringify(messageView(doc)));
    await MessageModel.collection.insertOne(doc as never);
    const bus = { tenant_id: creds.tenantId, session_id: sessionId, conversation_id: cid, routing_key: routingKey, assignee: null };
    await redis.publish(
      `${relay.config.queuePrefix}:chat:{${creds.tenantId}}`,
      JSON.stringify({ ...bus, kind: 'message', message: messageView(doc) }),
    );
  }

  it('number 2 stored 1 s after 3: the live socket, a tab connected during the gap (last_seq=1) and a new operator socket each get 2, 3 and 4 once', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'rk' });
    const live = connect(wsUrl(api1.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
    await live.next((f) => f.type === 'welcome');
    live.send({ type: 'message', text: 'm1', client_id: 'a' });
    const cid = (await live.next((f) => f.type === 'ack')).conversation_id;
    await live.next((f) => f.type === 'message' && f.message.seq === 1);
    // Process P takes number 2 (HINCRBY as NEXT_LUA does) and its insert is slow.
    const n = await redis.hincrby(key(cid), 'seq', 1);
    assert.equal(n, 2);
    // Meanwhile another message is stored and published as 3.
    const r3 = await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', {
      conversation_id: cid,
      sender_type: 'system',
      text: 'm3',
    });
    assert.equal(r3.body.data.message.seq, 3);
    // A visitor tab connects now with last_seq=1, an operator connects now (no sequencer for cid yet).
    const tab = connect(wsUrl(api2.url, '/api/v1/ws/widget', { token: s.token, last_seq: 1 }), { origin: ORIGIN });
    const op = await provisionOperator(relay.baseUrl, creds, 'op@example.com', ['rk']);
    const ows = connect(wsUrl(api2.url, '/api/v1/ws/operator', { token: op.token }));
    await ows.next((f) => f.type === 'welcome');
    await tab.next((f) => f.type === 'welcome');
    // P's insert completes 1 s later (well under the 3 s give-up) and it publishes, exactly as appendMessage does.
    await sleep(1000);
    await storeLate(cid, s.sessionId, 'rk', 2, 'm2 (slow)');
    // and one more ordinary message
    await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'system', text: 'm4' });
    await sleep(1500);
    assert.deepEqual(seqs(live), [1, 2, 3, 4]);
    assert.deepEqual(seqs(tab), [2, 3, 4]);
    // The operator socket began following at 3; 2 was new to it, so it comes late rather than never.
    assert.deepEqual([...seqs(ows)].sort(), [2, 3, 4]);
    for (const c of [live, tab, ows]) c.ws.close();
  });

  it('an operator socket whose first message of a conversation is 3 still gets 2, published 300 ms later by another process', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'rk2' });
    const c = await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId });
    const cid = c.body.data.conversation.id;
    const op = await provisionOperator(relay.baseUrl, creds, 'op2@example.com', ['rk2']);
    const ows = connect(wsUrl(api2.url, '/api/v1/ws/operator', { token: op.token }));
    await ows.next((f) => f.type === 'welcome');
    await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'system', text: 'warm' }); // seq 1, leases
    await ows.next((f) => f.type === 'message' && f.message.seq === 1);
    // fresh operator socket that has never seen this conversation
    const ows2 = connect(wsUrl(api1.url, '/api/v1/ws/operator', { token: op.token }));
    await ows2.next((f) => f.type === 'welcome');
    const n = await redis.hincrby(key(cid), 'seq', 1); // 2 taken, slow insert
    await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'system', text: 'm3' });
    await sleep(300);
    await storeLate(cid, s.sessionId, 'rk2', n, 'm2 (slow 300ms)');
    await sleep(1500);
    assert.deepEqual(seqs(ows), [1, 2, 3]);
    assert.deepEqual(seqs(ows2), [3, 2]);
    ows.ws.close();
    ows2.ws.close();
  });
});
