/**
 * The chat SDK against the live relay: ChatRelayClient drives a conversation through every state,
 * and BloonioChat in the Koa app and in the Express app receives the chat callbacks the relay signs,
 * verified and dispatched by event type; forged, stale and replayed ones are refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { ChatRelayClient } from '../src/index.js';
import { CHAT_EVENTS, ChatRelaySettings, ConfigurationError, NotFoundError, ValidationFailedError } from '../src/index.js';
import { apps, type TestApp } from './support/apps.js';
import { eventually, relay, type Relay } from './support/relay.js';

async function operator(r: Relay, token: string, verb: string, conversationId: string): Promise<any> {
  const res = await fetch(`${r.url}/api/v1/operator/${verb}/conversation`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ conversation_id: conversationId }),
  });
  const body: any = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data.conversation;
}

for (const kind of ['koa', 'express'] as const) {
  describe(`the chat SDK with ${kind === 'koa' ? 'a Koa' : 'an Express'} app`, function () {
    this.timeout(60_000);
    let r: Relay;
    let app: TestApp;
    let chat: ChatRelayClient;

    before(async function () {
      this.timeout(120_000);
      r = await relay();
      app = (await apps(r))[kind];
      chat = app.chat.client;
    });

    it('drives a conversation through every state, and the app receives the callbacks, verified', async () => {
      const emailHash = createHash('sha256').update('visitor@example.com').digest('hex');
      const minted = await chat.mintVisitorToken({
        visitorUserId: `visitor-${randomBytes(4).toString('hex')}`,
        visitorEmailHash: emailHash,
        ttlSeconds: 3600,
      });
      assert.equal(minted.created, true);
      assert.equal(minted.visitorToken.split('.').length, 3);
      const started = await chat.createConversation({ sessionId: minted.sessionId });
      const cid = started.conversation.id;
      assert.equal(started.created, true);
      assert.equal(started.lastResponse.statusCode, 201);
      const again = await chat.createConversation({ sessionId: minted.sessionId });
      assert.deepEqual([again.created, again.lastResponse.statusCode], [false, 200]);
      assert.equal((await chat.escalateConversation({ conversationId: cid, reason: 'wants a human' })).conversation.status, 'pending');
      const msg = await chat.sendMessage({ conversationId: cid, text: 'Hello, I need help', senderType: 'visitor' });
      assert.equal(msg.message.text, 'Hello, I need help');
      const email = `agent-${randomBytes(4).toString('hex')}@example.com`;
      const op = await chat.provisionOperator({ email, displayName: 'Agent Smith' });
      assert.deepEqual([op.created, op.lastResponse.statusCode], [true, 201]);
      assert.equal((await chat.provisionOperator({ email, displayName: 'Agent Smith' })).created, false);
      const { operatorToken } = await chat.mintOperatorToken({ email });
      assert.equal((await operator(r, operatorToken, 'take', cid)).status, 'assigned');
      assert.equal((await operator(r, operatorToken, 'release', cid)).status, 'pending');
      await operator(r, operatorToken, 'take', cid);
      assert.equal((await operator(r, operatorToken, 'resolve', cid)).status, 'resolved');
      const read = await chat.fetchConversation({ conversationId: cid });
      assert.deepEqual(
        read.messages.map((m) => m.text),
        ['Hello, I need help'],
      );
      assert.equal((await chat.fetchTicket({ ticketId: read.ticket!.id })).ticket.status, 'resolved');
      // Deprovisioned: its token is refused, no new one is minted; provisioning enables it again.
      assert.equal((await chat.deprovisionOperator({ email })).status, 'disabled');
      assert.equal((await chat.deprovisionOperator({ operatorId: op.operatorId })).status, 'disabled');
      await assert.rejects(operator(r, operatorToken, 'take', cid));
      await assert.rejects(chat.mintOperatorToken({ email }), (e: { statusCode?: number }) => e.statusCode === 410);
      assert.equal((await chat.provisionOperator({ email, displayName: 'Agent Smith' })).status, 'active');

      const handled = new Set(CHAT_EVENTS.filter((e) => e !== 'agent-released').map((e) => `chat.${e}`));
      const mine = await eventually(
        () => {
          const evs = app.events.filter(
            (e) => e.eventType.startsWith('chat.') && (e.data as { conversationId?: string }).conversationId === cid,
          );
          return [...handled].every((t) => evs.some((e) => e.eventType === t)) && evs;
        },
        'eight handled chat callbacks',
        20_000,
        200,
      );
      const by = Object.fromEntries(mine.map((e) => [e.eventType, e]));
      const received = by['chat.message-received'];
      assert.ok(received?.eventType === 'chat.message-received');
      assert.equal(received.data.message.text, 'Hello, I need help'); // typed: data.message.text
      const escalated = by['chat.escalation-triggered'];
      assert.ok(escalated?.eventType === 'chat.escalation-triggered');
      assert.equal(escalated.data.reason, 'wants a human');
      const assigned = by['chat.agent-assigned'];
      assert.ok(assigned?.eventType === 'chat.agent-assigned');
      assert.equal(assigned.data.operatorId, op.operatorId);
      // agent-released has no handler: accepted ({"received": true}, 200), as the relay recorded.
      const released = await eventually(
        async () =>
          (await r.deliveries(app.tenant.tenantId, { status: 'succeeded' })).find(
            (d) => d.event_type === 'chat.agent-released' && String(d.url).endsWith('/api/v1/chat-callbacks/agent-released'),
          ),
        'agent-released delivered',
      );
      const attempt = released.attempts.at(-1);
      assert.equal(attempt.status_code, 200);
      assert.match(String(attempt.response_body), /"received":true/);
    });

    it('the Auth Relay’s other callbacks reach their handlers too (platform.test, pairing)', async () => {
      const sent = await app.bloonio.client.sendTestCallback({ note: `hello ${kind}` });
      const ev = await eventually(() => app.events.find((e) => e.eventId === sent.eventId), 'platform.test at the app');
      assert.equal(ev.eventType, 'platform.test');
      assert.deepEqual(ev.data, { note: `hello ${kind}` });
    });

    it('socketUrl opens the operator socket with a one-time ticket, never the token', async () => {
      const email = `ws-${randomBytes(4).toString('hex')}@example.com`;
      await chat.provisionOperator({ email, displayName: 'Socket Agent' });
      const { operatorToken } = await chat.mintOperatorToken({ email });
      const url = await chat.socketUrl({ kind: 'operator', token: operatorToken });
      assert.match(url, /^ws:\/\/.+\/api\/v1\/ws\/operator\?ticket=wst_/);
      assert.ok(!url.includes(operatorToken), 'the token is not in the URL');
      const first = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('message', (d) => (resolve((JSON.parse(String(d)) as { type: string }).type), ws.close()));
        ws.on('close', (code) => reject(new Error(`closed ${code}`)));
        ws.on('error', reject);
      });
      assert.equal(first, 'welcome');
      await assert.rejects(chat.socketUrl({ kind: 'visitor', token: operatorToken }), (e: Error) => /401/.test(e.message));
    });

    it('chat errors are typed', async () => {
      const e = await chat.fetchConversation({ conversationId: `cnv_${'0'.repeat(26)}` }).catch((x: unknown) => x);
      assert.ok(e instanceof NotFoundError);
      assert.deepEqual([e.code, e.statusCode], ['NOT_FOUND', 404]);
      const v = await chat.mintVisitorToken({ visitorUserId: 'v1', visitorEmailHash: 'not-a-hash' }).catch((x: unknown) => x);
      assert.ok(v instanceof ValidationFailedError);
      assert.ok(v.details.some((d) => d.startsWith('visitor_email_hash:')));
      // The document's oneOf: an operator is named by its id or by its email, never both (a type error, and refused here).
      // @ts-expect-error: neither
      await assert.rejects(chat.mintOperatorToken({}), /mintOperatorToken: give exactly one of operatorId \/ email/);
      const both = { operatorId: `op_${'0'.repeat(26)}`, email: 'ada@example.com' };
      // @ts-expect-error: both
      await assert.rejects(chat.mintOperatorToken(both), /give exactly one of operatorId \/ email/);
    });
  });
}

describe('chat callbacks refuse what the relay did not send (Koa app)', function () {
  this.timeout(60_000);

  it('refuses replayed, tampered, unsigned and stale requests; other paths are not callbacks', async () => {
    const r = await relay();
    const app = (await apps(r)).koa;
    const minted = await app.chat.client.mintVisitorToken({ visitorUserId: `visitor-${randomBytes(4).toString('hex')}` });
    const cid = (await app.chat.client.createConversation({ sessionId: minted.sessionId })).conversation.id;
    const real = await eventually(
      () => app.raw.find((x) => x.body.includes(cid) && x.status === 200),
      'a real conversation-started callback',
    );
    const keep = Object.fromEntries(Object.entries(real.headers).filter(([k]) => k.startsWith('x-bloonio-') || k === 'content-type'));
    const replayed = await app.postRaw(real.path, real.body, keep);
    assert.deepEqual([replayed.status, replayed.body.reason], [401, 'replay_detected']);
    const tampered = await app.postRaw(real.path, real.body.replace('conversation', 'Conversation'), keep);
    assert.equal(tampered.body.reason, 'invalid_signature');
    assert.equal((await app.postRaw(real.path, real.body, { ...keep, 'x-bloonio-signature': '0'.repeat(64) })).status, 401);
    assert.equal((await app.postRaw(real.path, real.body, { 'content-type': 'application/json' })).body.reason, 'missing_headers');
    const stale = await app.postRaw(real.path, real.body, {
      ...keep,
      'x-bloonio-timestamp': String(Number(keep['x-bloonio-timestamp']) - 60_000),
    });
    assert.deepEqual([stale.status, stale.body.reason], [401, 'timestamp_out_of_window']);
    assert.equal((await app.postRaw('/api/v1/chat-callbacks/something-else', real.body, keep)).status, 404);
  });

  it('names the chat variables when they are missing', () => {
    assert.throws(
      () => new ChatRelaySettings({ env: {} }),
      (e: unknown) =>
        e instanceof ConfigurationError &&
        /BLOONIO_CHAT_BASE_URL is missing/.test(e.message) &&
        /BLOONIO_CHAT_TENANT_SECRET is missing/.test(e.message),
    );
    const s = new ChatRelaySettings({
      env: {
        BLOONIO_CHAT_BASE_URL: 'http://x',
        BLOONIO_CHAT_TENANT_ID: 'tnt_a',
        BLOONIO_CHAT_TENANT_SECRET: 'sk_a',
        BLOONIO_CHAT_WIDGET_PUBLIC_KEY: 'pk_a',
      },
    });
    assert.deepEqual([s.baseUrl, s.widgetPublicKey], ['http://x', 'pk_a']);
  });
});
