/**
 * Chat Relay core, end to end with real `ws` clients, real Redis and FerretDB, and two separate API
 * processes (spawnApi) so every socket test also crosses the Redis fan-out.
 */
import assert from 'node:assert/strict';
import { mintVisitorToken, widgetKeyHash } from '../../api/principals/visitor.js';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';
import { asOperator, createSession, provisionOperator, socketPool, type Frame } from '../support/chat-client.js';
import { sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const isMsg = (text: string) => (f: Frame) => f.type === 'message' && f.message?.text === text;

describe('chat relay core', function () {
  this.timeout(60_000);
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  let creds: TenantCreds;
  const { visitorWs, operatorWs, closeAll } = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('chat_core');
    [api1, api2] = await Promise.all([spawnApi(relay.env), spawnApi(relay.env)]);
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN, 'app://com.example.shop'], rate_limit_per_min: 10_000 });
  });
  after(async () => {
    await closeAll();
    await Promise.all([api1?.kill(), api2?.kill()]);
    await relay?.stop();
  });

  describe('visitor sessions (docs/contract.md §3.1)', () => {
    it('widget-config answers an allowed origin, refuses another (403), and CORS preflights are answered', async () => {
      const q = `tenant_id=${creds.tenantId}&widget_public_key=${encodeURIComponent(creds.widgetKey)}`;
      const ok = await fetch(`${api1.url}/api/v1/fetch/widget-config?${q}`, { headers: { Origin: ORIGIN } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
      const body = (await ok.json()) as any;
      assert.equal(body.data.tenant_id, creds.tenantId);
      assert.equal(body.data.max_message_chars, 4000);
      const bad = await fetch(`${api1.url}/api/v1/fetch/widget-config?${q}`, { headers: { Origin: 'https://evil.example' } });
      assert.equal(bad.status, 403);
      assert.equal(((await bad.json()) as any).error.code, 'ORIGIN_NOT_ALLOWED');
      const pre = await fetch(`${api1.url}/api/v1/create/visitor-session`, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Content-Type/i);
      assert.equal(pre.headers.get('access-control-allow-credentials'), null);
    });

    it('creates a session (201) with a visitor token; 403 for an origin outside allowed_origins, a disagreeing Origin header or a wrong widget key', async () => {
      const s = await createSession(api1.url, creds, ORIGIN);
      assert.equal(s.status, 201, JSON.stringify(s.body));
      assert.equal(s.body.message, 'Visitor session created.');
      assert.match(s.sessionId, /^vs_/);
      assert.ok(Date.parse(s.body.data.expires_at) - Date.now() <= 3600_000 + 5000);
      assert.ok(Date.parse(s.body.data.session_expires_at) - Date.now() > 29 * 86400_000);

      const outside = await createSession(api1.url, creds, 'https://evil.example');
      assert.equal(outside.status, 403);
      assert.equal(outside.body.error.code, 'ORIGIN_NOT_ALLOWED');

      const r = await fetch(`${api1.url}/api/v1/create/visitor-session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
        body: JSON.stringify({ tenant_id: creds.tenantId, widget_public_key: creds.widgetKey, origin: ORIGIN }),
      });
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as any).error.code, 'ORIGIN_NOT_ALLOWED');

      const wrongKey = await createSession(api1.url, { ...creds, widgetKey: 'pk_wrong' }, ORIGIN);
      assert.equal(wrongKey.status, 403);
    });

    it('refreshes an expired visitor token for the same session; refuses a forged one (401)', async () => {
      const s = await createSession(api1.url, creds, ORIGIN);
      const expired = mintVisitorToken(
        relay.config,
        { tid: creds.tenantId, sid: s.sessionId, wkh: widgetKeyHash(creds.widgetKey), org: ORIGIN },
        -10,
      ).token;
      const r = await fetch(`${api2.url}/api/v1/refresh/visitor-token`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${expired}`, Origin: ORIGIN },
      });
      const body = (await r.json()) as any;
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.equal(body.data.session_id, s.sessionId);
      assert.notEqual(body.data.visitor_token, expired);
      const forged = `${expired.slice(0, -4)}AAAA`;
      const bad = await fetch(`${api2.url}/api/v1/refresh/visitor-token`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${forged}` },
      });
      assert.equal(bad.status, 401);
    });
  });

  describe('sockets across two API processes', () => {
    it('visitor (API 1) and operator (API 2) exchange messages both ways; after a disconnect the visitor gets exactly the three missed messages, in order', async () => {
      const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'store-1' });
      const op = await provisionOperator(relay.baseUrl, creds, 'alice@example.com', ['store-1']);

      const operator = operatorWs(api2.url, op.token);
      await operator.next((f) => f.type === 'welcome');
      let visitor = visitorWs(api1.url, s.token);
      const welcome = await visitor.next((f) => f.type === 'welcome');
      assert.equal(welcome.session_id, s.sessionId);
      assert.equal(welcome.conversation, null);

      // Visitor → operator (the first message opens the conversation in the human queue).
      visitor.send({ type: 'message', text: 'Bonjour <b>?</b>', client_id: 'c1' });
      const ack = await visitor.next((f) => f.type === 'ack' && f.client_id === 'c1');
      assert.equal(ack.seq, 1);
      const started = await operator.next((f) => f.type === 'conversation' && f.change === 'started');
      assert.equal(started.conversation.status, 'pending');
      const cid = started.conversation.id as string;
      const seen = await operator.next(isMsg('Bonjour <b>?</b>'));
      assert.equal(seen.message.seq, 1);
      assert.equal(seen.message.sender_type, 'visitor');

      // Operator takes (WS) and answers; the visitor sees agent_joined and the answer.
      operator.send({ type: 'take', conversation_id: cid, ref: 't1' });
      const took = await operator.next((f) => f.type === 'result' && f.ref === 't1');
      assert.equal(took.ok, true, JSON.stringify(took));
      const joined = await visitor.next((f) => f.type === 'agent_joined');
      assert.equal(joined.operator.id, op.id);
      operator.send({ type: 'message', conversation_id: cid, text: 'Hello, how can I help?' });
      const answer = await visitor.next(isMsg('Hello, how can I help?'));
      assert.equal(answer.message.seq, 2);
      assert.equal(answer.message.sender_type, 'operator');

      // Typing flows to the other side.
      visitor.send({ type: 'typing', on: true });
      assert.equal((await operator.next((f) => f.type === 'typing' && f.from === 'visitor')).on, true);

      // Visitor disconnects; the operator sends three (REST on API 2); the visitor reconnects on API 1.
      const lastSeen = Math.max(...visitor.frames.filter((f) => f.type === 'message').map((f) => f.message.seq as number));
      assert.equal(lastSeen, 2);
      await visitor.close();
      for (const text of ['one', 'two', 'three']) {
        const r = await asOperator(api2.url, op.token, 'POST', '/operator/send/message', { conversation_id: cid, text });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      visitor = visitorWs(api1.url, s.token, { last_seq: lastSeen });
      await visitor.next((f) => f.type === 'welcome');
      await visitor.next(isMsg('three'));
      await sleep(300); // anything extra (a duplicate, an old message) would show up by now
      const replayed = visitor.frames.filter((f) => f.type === 'message').map((f) => [f.message.seq, f.message.text]);
      assert.deepEqual(replayed, [
        [3, 'one'],
        [4, 'two'],
        [5, 'three'],
      ]);

      // And live traffic continues on the new socket, both ways.
      visitor.send({ type: 'message', text: 'thanks' });
      assert.equal((await operator.next(isMsg('thanks'))).message.seq, 6);
      operator.send({ type: 'message', conversation_id: cid, text: 'bye' });
      assert.equal((await visitor.next(isMsg('bye'))).message.seq, 7);

      // The stored history is the same, read by the backend.
      const hist = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`);
      assert.equal(hist.status, 200);
      assert.deepEqual(
        hist.body.data.messages.map((m: Frame) => m.seq),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assert.equal(hist.body.data.messages[0].text, 'Bonjour <b>?</b>', 'stored as plain text, untouched');
    });

    it('a message over 4,000 characters is refused with an error frame and not stored', async () => {
      const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human' });
      const v = visitorWs(api1.url, s.token);
      await v.next((f) => f.type === 'welcome');
      v.send({ type: 'message', text: 'x'.repeat(4001) });
      const err = await v.next((f) => f.type === 'error');
      assert.equal(err.code, 'VALIDATION_FAILED');
      v.send({ type: 'message', text: 'x'.repeat(4000), client_id: 'ok' });
      assert.equal((await v.next((f) => f.type === 'ack' && f.client_id === 'ok')).seq, 1);
    });
  });

  describe('operators (docs/contract.md §3.3)', () => {
    it('provisioning is idempotent on email + tenant: 201 then 200 created:false, routing keys refreshed, no password returned', async () => {
      const body = { email: 'Bob@Example.com', display_name: 'Bob', routing_keys: ['store-1'] };
      const a = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', body);
      assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.equal(a.body.data.created, true);
      assert.equal(a.body.data.email, 'bob@example.com');
      assert.match(a.body.data.relay_user_linked_id, /^[0-9a-f]{24}$/);
      const b = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', {
        ...body,
        email: 'bob@example.com',
        routing_keys: ['store-2'],
      });
      assert.equal(b.status, 200);
      assert.equal(b.body.data.created, false);
      assert.equal(b.body.data.operator_id, a.body.data.operator_id);
      assert.deepEqual(b.body.data.routing_keys, ['store-2']);
      assert.ok(!JSON.stringify(b.body).includes('password'));
    });

    it('operator tokens carry tids for the calling tenant only', async () => {
      const op = await provisionOperator(relay.baseUrl, creds, 'tids@example.com');
      const claims = JSON.parse(Buffer.from(op.token.split('.')[1] ?? '', 'base64url').toString());
      assert.deepEqual(claims.tids, { [creds.tenantId]: 'agent' });
      assert.equal(claims.sub, op.id);
    });

    it('two operators racing to take one conversation: exactly one wins, the other gets 409 (10 rounds, two API processes)', async () => {
      const [a, b] = await Promise.all([
        provisionOperator(relay.baseUrl, creds, 'race-a@example.com'),
        provisionOperator(relay.baseUrl, creds, 'race-b@example.com'),
      ]);
      for (let round = 0; round < 10; round++) {
        const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'race' });
        const conv = await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId });
        assert.equal(conv.status, 201, JSON.stringify(conv.body));
        const cid = conv.body.data.conversation.id;
        const results = await Promise.all([
          asOperator(api1.url, a.token, 'POST', '/operator/take/conversation', { conversation_id: cid }),
          asOperator(api2.url, b.token, 'POST', '/operator/take/conversation', { conversation_id: cid }),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 409], `round ${round}`);
        const winner = results.find((r) => r.status === 200);
        assert.equal(winner?.body.data.conversation.status, 'assigned');
        assert.equal(results.find((r) => r.status === 409)?.body.error.code, 'CONFLICT');
        const stored = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`);
        assert.equal(stored.body.data.conversation.assignee_operator_id, winner?.body.data.conversation.assignee_operator_id);
      }
    });

    it('release puts it back in the queue, resolve closes it; a later visitor message reopens it', async () => {
      const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'cycle' });
      const cid = (await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId })).body.data
        .conversation.id;
      const op = await provisionOperator(relay.baseUrl, creds, 'cycle@example.com', ['cycle']);
      const other = await provisionOperator(relay.baseUrl, creds, 'cycle2@example.com', ['cycle']);
      const queue = await asOperator(api1.url, op.token, 'GET', '/operator/fetch/queue');
      assert.ok(queue.body.data.conversations.some((c: Frame) => c.id === cid));
      assert.equal((await asOperator(api1.url, op.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
      assert.equal(
        (await asOperator(api1.url, other.token, 'POST', '/operator/release/conversation', { conversation_id: cid })).status,
        409,
      );
      assert.equal(
        (await asOperator(api1.url, other.token, 'POST', '/operator/send/message', { conversation_id: cid, text: 'hi' })).status,
        409,
      );
      const rel = await asOperator(api1.url, op.token, 'POST', '/operator/release/conversation', { conversation_id: cid });
      assert.equal(rel.body.data.conversation.status, 'pending');
      assert.equal((await asOperator(api1.url, other.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
      const res = await asOperator(api1.url, other.token, 'POST', '/operator/resolve/conversation', { conversation_id: cid });
      assert.equal(res.body.data.conversation.status, 'resolved');
      const again = await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', {
        conversation_id: cid,
        sender_type: 'visitor',
        text: 'one more thing',
      });
      assert.equal(again.status, 201);
      const read = await asOperator(api1.url, op.token, 'GET', `/operator/fetch/conversation?conversation_id=${cid}`);
      assert.equal(read.body.data.conversation.status, 'pending');
    });
  });

  describe('isolation', () => {
    let store2: string;
    let limited: { id: string; token: string };
    before(async () => {
      const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'store-2' });
      store2 = (await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId })).body.data
        .conversation.id;
      limited = await provisionOperator(relay.baseUrl, creds, 'limited@example.com', ['store-1']);
      const s1 = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'store-1' });
      assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s1.sessionId })).status, 201);
    });

    it('an operator limited to ["store-1"] cannot list, read, take or follow a store-2 conversation', async () => {
      const list = await asOperator(api1.url, limited.token, 'GET', '/operator/fetch/queue?limit=200');
      assert.equal(list.status, 200);
      assert.ok(list.body.data.conversations.length > 0);
      assert.ok(list.body.data.conversations.every((c: Frame) => c.routing_key === 'store-1'));
      assert.equal(
        (await asOperator(api1.url, limited.token, 'GET', `/operator/fetch/conversation?conversation_id=${store2}`)).status,
        404,
      );
      assert.equal(
        (await asOperator(api1.url, limited.token, 'POST', '/operator/take/conversation', { conversation_id: store2 })).status,
        404,
      );
      const ws = operatorWs(api2.url, limited.token);
      await ws.next((f) => f.type === 'welcome');
      ws.send({ type: 'take', conversation_id: store2, ref: 'x' });
      const r = await ws.next((f) => f.type === 'result' && f.ref === 'x');
      assert.equal(r.status, 404);
      ws.send({ type: 'sync', conversation_id: store2, last_seq: 0 });
      assert.equal((await ws.next((f) => f.type === 'error')).status, 404);
      await signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', {
        conversation_id: store2,
        sender_type: 'visitor',
        text: 'store-2 secret',
      });
      await sleep(400);
      assert.ok(!ws.frames.some((f) => JSON.stringify(f).includes('store-2 secret') || f.conversation?.id === store2));
    });

    it("another tenant's operator gets 404 on REST and 4403 on this tenant's socket; its visitor token gets 4403 here", async () => {
      const otherCreds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN], rate_limit_per_min: 10_000 });
      const stranger = await provisionOperator(relay.baseUrl, otherCreds, 'stranger@example.com');
      assert.equal(
        (await asOperator(api1.url, stranger.token, 'GET', `/operator/fetch/conversation?conversation_id=${store2}`)).status,
        404,
      );
      assert.equal(
        (await asOperator(api1.url, stranger.token, 'POST', '/operator/take/conversation', { conversation_id: store2 })).status,
        404,
      );
      assert.equal((await signed(relay.baseUrl, otherCreds, 'GET', `/relay/fetch/conversation?conversation_id=${store2}`)).status, 404);
      const ws = operatorWs(api1.url, stranger.token, { tenant_id: creds.tenantId });
      assert.equal((await ws.closed).code, 4403);
      const os = await createSession(api1.url, otherCreds, ORIGIN);
      const vws = visitorWs(api2.url, os.token, { tenant_id: creds.tenantId });
      assert.equal((await vws.closed).code, 4403);
    });

    it('an expired visitor token gets 4401, a forged one 4401, a foreign Origin 4403; a rotated widget key invalidates tokens (4401)', async () => {
      const s = await createSession(api1.url, creds, ORIGIN);
      const expired = mintVisitorToken(
        relay.config,
        { tid: creds.tenantId, sid: s.sessionId, wkh: widgetKeyHash(creds.widgetKey), org: ORIGIN },
        -1,
      ).token;
      assert.equal((await visitorWs(api1.url, expired).closed).code, 4401);
      assert.equal((await visitorWs(api1.url, `${s.token}x`).closed).code, 4401);
      assert.equal((await visitorWs(api1.url, s.token, {}, 'https://evil.example').closed).code, 4403);
      const t2 = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
      const s2 = await createSession(api1.url, t2, ORIGIN);
      assert.equal((await admin(relay.baseUrl, 'POST', `/rotate/widget-key?tenant_id=${t2.tenantId}`)).status, 200);
      await sleep(100);
      assert.equal((await visitorWs(api2.url, s2.token).closed).code, 4401);
    });
  });
});
