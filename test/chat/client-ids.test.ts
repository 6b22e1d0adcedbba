/**
 * A visitor message is stored once per client_id (api/chat/ws/client-ids.ts): the widget sends a
 * message again after a reconnect when its ack was lost, and must not create a second copy. Real
 * sockets on a separate API process, real Redis and FerretDB.
 */
import assert from 'node:assert/strict';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { createSession, socketPool } from '../support/chat-client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { eventually, sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { MessageModel } from '../../models/chat/message.js';

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

  it("a claim whose answer was lost (Redis ran the SET, the connection dropped) does not block the message's resend", async () => {
    // The API reaches Redis through a proxy that loses the answer to the message's claim, as when Redis
    // dies (or the network drops) between running a command and answering it.
    const proxy = await new FaultProxy(Number(new URL(relay.env.REDIS_URL!).port)).start();
    const cut = await spawnApi({ ...relay.env, REDIS_URL: proxy.url });
    try {
      const s = await createSession(cut.url, creds, ORIGIN, { mode: 'human' });
      let ws = visitorWs(cut.url, s.token);
      await ws.next((f) => f.type === 'welcome');
      proxy.loseAnswerOnce((req) => req.includes('pending') && req.includes('lost-answer'));

      // The widget: send, and on an error frame (or no answer, or a dropped socket) send it again, same id.
      // Before the fix the orphaned claim answered every resend CONFLICT for its whole life (30 s).
      const got: string[] = [];
      let ack: Record<string, any> | null = null;
      for (const until = Date.now() + 20_000; !ack && Date.now() < until;) {
        if (ws.ws.readyState !== ws.ws.OPEN) {
          ws = visitorWs(cut.url, s.token);
          await ws.next((f) => f.type === 'welcome');
        }
        const before = new Set(ws.frames);
        ws.send({ type: 'message', text: 'after a lost answer', client_id: 'lost-answer' });
        const f = await ws
          .next((x) => !before.has(x) && x.client_id === 'lost-answer' && ['ack', 'error'].includes(x.type), 8000)
          .catch(() => null);
        got.push(f ? `${f.type} ${f.code ?? ''}` : 'nothing');
        if (f?.type === 'ack') ack = f;
        else await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(proxy.lost.length, 1, 'the claim was executed and its answer lost');
      assert.ok(ack, `never acknowledged within 20 s; the sends got: ${got.join(', ')}`);
      assert.ok(!got.includes('error CONFLICT'), `no resend was refused as still being stored: ${got.join(', ')}`);

      // Stored once, under the number it was acknowledged with.
      const conv = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${ack.conversation_id}`);
      assert.equal(conv.status, 200);
      assert.deepEqual(
        conv.body.data.messages.map((m: any) => [m.text, m.seq]),
        [['after a lost answer', ack.seq]],
      );
    } finally {
      await cut.kill();
      await proxy.stop();
    }
  });

  it('a store job whose answer was lost (Redis queued it, then went away for a moment) is the message accepted: acknowledged once, stored once', async () => {
    // The API reaches Redis through a proxy that loses the answer to the message's store job and then
    // refuses connections for 1.5 s, as when Redis dies right after running the command and restarts.
    const proxy = await new FaultProxy(Number(new URL(relay.env.REDIS_URL!).port)).start();
    const cut = await spawnApi({ ...relay.env, REDIS_URL: proxy.url });
    try {
      const s = await createSession(cut.url, creds, ORIGIN, { mode: 'human' });
      let ws = visitorWs(cut.url, s.token);
      await ws.next((f) => f.type === 'welcome');
      proxy.loseAnswerOnce((req) => req.includes('chat.message.store') && req.includes('after a lost job answer'), 3000);

      // The widget: send, and on an error frame (or no answer, or a dropped socket) send it again, same id.
      // Before the fix the sender heard "not stored" while its job was queued, and the resend was a second copy.
      const got: string[] = [];
      let ack: Record<string, any> | null = null;
      for (const until = Date.now() + 30_000; !ack && Date.now() < until;) {
        if (ws.ws.readyState !== ws.ws.OPEN) {
          ws = visitorWs(cut.url, s.token);
          await ws.next((f) => f.type === 'welcome', 10_000).catch(() => null);
        }
        const before = new Set(ws.frames);
        ws.send({ type: 'message', text: 'after a lost job answer', client_id: 'job-answer-lost' });
        const f = await ws
          .next((x) => !before.has(x) && x.client_id === 'job-answer-lost' && ['ack', 'error'].includes(x.type), 20_000)
          .catch(() => null);
        got.push(f ? `${f.type} ${f.code ?? ''}` : 'nothing');
        if (f?.type === 'ack') ack = f;
        else await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(proxy.lost.length, 1, 'the store job was queued and its answer lost');
      assert.ok(ack, `never acknowledged within 30 s; the sends got: ${got.join(', ')}`);

      // Stored once, under the number it was acknowledged with (the chat-history worker writes MongoDB).
      await relay.startWorker();
      const stored = async () =>
        (
          await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${ack!.conversation_id}`)
        ).body.data.messages.map((m: any) => [m.text, m.seq]);
      const copies = () => MessageModel.countDocuments({ tenant_id: creds.tenantId, conversation_id: ack!.conversation_id });
      await eventually(async () => (await copies()) >= 1, 30_000);
      await sleep(2000); // room for a second copy's job, queued beside the first
      assert.equal(await copies(), 1, `one copy in MongoDB; the sends got: ${got.join(', ')}`);
      assert.deepEqual(await stored(), [['after a lost job answer', ack.seq]], `the sends got: ${got.join(', ')}`);
    } finally {
      await cut.kill();
      await proxy.stop();
    }
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
