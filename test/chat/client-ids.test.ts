/**
 * A visitor message is stored once per client_id (api/chat/ws/client-ids.ts): the widget sends a
 * message again after a reconnect when its ack was lost, and must not create a second copy. Real
 * sockets on a separate API process, real Redis and FerretDB.
 */
import assert from 'node:assert/strict';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { createSession, socketPool } from '../support/chat-client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';

describe('chat: a visitor client_id is stored once', function () {
  this.timeout(60_000);
  let relay: Relay;
  let api: Child;
  let creds: TenantCreds;
  const { visitorWs, closeAll } = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('chat_client_ids');
    api = await spawnApi(relay.env);
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
  });
  after(async () => {
    await closeAll();
    await api?.kill();
    await relay?.stop();
  });

  it('the same client_id sent again (on a new socket) is acknowledged with the first message, stored once; another id is a new message', async () => {
    const s = await createSession(api.url, creds, ORIGIN, { mode: 'human' });
    const first = visitorWs(api.url, s.token);
    await first.next((f) => f.type === 'welcome');
    first.send({ type: 'message', text: 'once', client_id: 'c-1' });
    const ack1 = await first.next((f) => f.type === 'ack' && f.client_id === 'c-1');
    assert.equal(ack1.duplicate, undefined);
    await first.close();

    // After a reconnect that "lost" the ack, the widget sends it again: same id, same number, flagged.
    const second = visitorWs(api.url, s.token, { last_seq: ack1.seq });
    await second.next((f) => f.type === 'welcome');
    second.send({ type: 'message', text: 'once', client_id: 'c-1' });
    const ack2 = await second.next((f) => f.type === 'ack' && f.client_id === 'c-1');
    assert.deepEqual(
      { id: ack2.message_id, seq: ack2.seq, conv: ack2.conversation_id, duplicate: ack2.duplicate },
      { id: ack1.message_id, seq: ack1.seq, conv: ack1.conversation_id, duplicate: true },
    );
    second.send({ type: 'message', text: 'twice', client_id: 'c-2' });
    const ack3 = await second.next((f) => f.type === 'ack' && f.client_id === 'c-2');
    assert.equal(ack3.seq, ack1.seq + 1);

    const conv = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${ack1.conversation_id}`);
    assert.equal(conv.status, 200);
    assert.deepEqual(
      conv.body.data.messages.map((m: any) => m.text),
      ['once', 'twice'],
    );
  });

  it('two sessions may use the same client_id: each stores its own message', async () => {
    const a = await createSession(api.url, creds, ORIGIN, { mode: 'human' });
    const b = await createSession(api.url, creds, ORIGIN, { mode: 'human' });
    const wa = visitorWs(api.url, a.token);
    const wb = visitorWs(api.url, b.token);
    await Promise.all([wa.next((f) => f.type === 'welcome'), wb.next((f) => f.type === 'welcome')]);
    wa.send({ type: 'message', text: 'from a', client_id: 'same' });
    wb.send({ type: 'message', text: 'from b', client_id: 'same' });
    const [ackA, ackB] = await Promise.all([wa.next((f) => f.type === 'ack'), wb.next((f) => f.type === 'ack')]);
    assert.notEqual(ackA.message_id, ackB.message_id);
    assert.notEqual(ackA.conversation_id, ackB.conversation_id);
    assert.equal(ackA.duplicate, undefined);
    assert.equal(ackB.duplicate, undefined);
  });
});
