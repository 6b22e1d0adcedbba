/**
 * Chat lanes, tickets and the nine chat callbacks (docs/contract.md §3.2, §3.4, §3.6), end to end: HTTP → queue
 * → worker → a local bot and a local callback receiver (real HTTP servers). Every callback and every
 * bot call is verified with the seed's recipe, written out here independently of our signing module.
 */
import assert from 'node:assert/strict';
import { CALLBACK_EVENTS, type CallbackName } from '../../models/platform/callback-catalogue.js';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { asOperator, provisionOperator, socketPool } from '../support/chat-client.js';
import { eventually, spawnApi, startRelay, type Relay } from '../support/harness.js';

type Received = { path: string; headers: http.IncomingHttpHeaders; raw: string; body: any; verified: boolean };

/** The seed's recipe: hex(hmac_sha256(secret, f"{ts_ms}.{sha256_hex(body)}")). */
function seedVerify(secret: string, headers: http.IncomingHttpHeaders, raw: string): boolean {
  const ts = String(headers['x-bloonio-timestamp'] ?? '');
  const sig = String(headers['x-bloonio-signature'] ?? '');
  const expected = createHmac('sha256', secret)
    .update(`${ts}.${createHash('sha256').update(raw).digest('hex')}`)
    .digest('hex');
  return /^\d{13}$/.test(ts) && Math.abs(Date.now() - Number(ts)) < 30_000 && sig === expected;
}

async function receiver(handler: (r: Received) => { status?: number; body?: unknown; delayMs?: number } | void, secret: () => string) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: JSON.parse(raw || '{}'),
        verified: seedVerify(secret(), req.headers, raw),
      };
      got.push(r);
      const out = handler(r) ?? {};
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(out.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(out.body ?? { ok: true }));
      }, out.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    close: () => new Promise((r) => server.close(r)).then(() => server.closeAllConnections()),
  };
}

describe('chat lanes, tickets and callbacks', function () {
  this.timeout(60_000);
  let relay: Relay;
  let creds: TenantCreds;
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let bot: Awaited<ReturnType<typeof receiver>>;

  before(async () => {
    relay = await startRelay('chat_cb', { CHAT_BOT_TIMEOUT_MS: '800' });
    await relay.startWorker();
    hooks = await receiver(
      () => undefined,
      () => creds.secret,
    );
    bot = await receiver(
      (r) => {
        const text: string = r.body?.message?.text ?? '';
        if (text === 'hang') return { delayMs: 3000, body: { reply: 'too late' } };
        if (text === 'crash') return { status: 500 };
        if (text === 'human please') return { body: { reply: 'Connecting you to a human.', escalate: true } };
        return { body: { reply: `Bot: ${text}` } };
      },
      () => creds.secret,
    );
    creds = await provision(relay.baseUrl, {
      callback_url_base: hooks.url,
      bot_webhook_url: bot.url,
      allowed_origins: ['https://shop.example.com'],
      rate_limit_per_min: 10_000,
    });
  });
  after(async () => {
    await relay?.stop();
    await hooks?.close();
    await bot?.close();
  });

  const events = (cid: string) => hooks.got.filter((r) => r.body?.data?.conversation_id === cid);
  const eventOf = (cid: string, name: string) =>
    eventually(async () => events(cid).find((r) => r.path === `/api/v1/chat-callbacks/${name}`));

  async function botConversation(visitor: string) {
    const minted = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', {
      visitor_user_id: visitor,
      mode: 'bot',
      routing_key: 'store-1',
    });
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    const conv = await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: minted.body.data.session_id });
    assert.equal(conv.status, 201, JSON.stringify(conv.body));
    assert.equal(conv.body.data.conversation.status, 'bot');
    return conv.body.data.conversation.id as string;
  }
  const say = (cid: string, text: string) =>
    signed(relay.baseUrl, creds, 'POST', '/relay/send/chat-message', { conversation_id: cid, sender_type: 'visitor', text });
  const read = async (cid: string) =>
    (await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`)).body.data;

  it('bot lane: the signed bot answers; escalation opens a ticket and queues the conversation; take, release, take, resolve — all nine callbacks arrive signed, each with the conversation, ticket and sequence', async () => {
    const cid = await botConversation('visitor-nine');
    // 1. The bot answers a visitor message (its call is signed with the seed's recipe).
    assert.equal((await say(cid, 'hello')).status, 201);
    const replied = await eventually(async () => ((await read(cid)).messages.length === 2 ? read(cid) : null));
    assert.deepEqual(
      replied.messages.map((m: any) => [m.seq, m.sender_type, m.text]),
      [
        [1, 'visitor', 'hello'],
        [2, 'bot', 'Bot: hello'],
      ],
    );
    const call = bot.got.find((r) => r.body.conversation_id === cid);
    assert.ok(call?.verified, 'bot call verifies with the seed recipe');
    assert.equal(call?.headers['x-bloonio-tenant-id'], creds.tenantId);

    // 2. The bot escalates: reply first, then pending + ticket.
    await say(cid, 'human please');
    const escalated = await eventually(async () => {
      const d = await read(cid);
      return d.conversation.status === 'pending' ? d : null;
    });
    assert.equal(escalated.messages.at(-1).text, 'Connecting you to a human.');
    assert.ok(escalated.ticket, 'a ticket was created');
    assert.equal(escalated.ticket.status, 'open');
    assert.equal(escalated.ticket.routing_key, 'store-1');
    const ticketId = escalated.ticket.id;

    // 3. Operators: take, release, take (other), resolve.
    const a = await provisionOperator(relay.baseUrl, creds, 'cb-a@example.com', ['store-1']);
    const b = await provisionOperator(relay.baseUrl, creds, 'cb-b@example.com');
    assert.equal((await asOperator(relay.baseUrl, a.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
    assert.equal(
      (await asOperator(relay.baseUrl, a.token, 'POST', '/operator/release/conversation', { conversation_id: cid })).status,
      200,
    );
    assert.equal((await asOperator(relay.baseUrl, b.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
    assert.equal(
      (await asOperator(relay.baseUrl, b.token, 'POST', '/operator/send/message', { conversation_id: cid, text: 'Solved?' })).status,
      201,
    );
    assert.equal(
      (await asOperator(relay.baseUrl, b.token, 'POST', '/operator/resolve/conversation', { conversation_id: cid })).status,
      200,
    );
    const t = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/ticket?ticket_id=${ticketId}`);
    assert.equal(t.body.data.ticket.status, 'resolved');
    assert.equal(t.body.data.ticket.assignee_operator_id, b.id);

    // 4. The nine callbacks, each signed and carrying ids and sequence.
    const names = [
      'conversation-started',
      'message-received',
      'escalation-triggered',
      'ticket-created',
      'agent-assigned',
      'ticket-assigned',
      'agent-released',
      'agent-resolved',
      'ticket-resolved',
    ];
    for (const name of names) {
      const ev = await eventOf(cid, name);
      assert.ok(ev.verified, `${name} verifies with the seed recipe`);
      assert.equal(ev.headers['x-bloonio-event-type'], `chat.${name}`);
      assert.equal(ev.body.event_type, `chat.${name}`);
      assert.equal(ev.body.tenant_id, creds.tenantId);
      assert.equal(ev.body.data.conversation_id, cid);
      assert.match(ev.body.data.session_id, /^vs_/);
      assert.equal(typeof ev.body.data.seq, 'number');
      // The body matches the callback catalogue's schema (what the OpenAPI webhooks and the SDKs promise).
      const shape = CALLBACK_EVENTS[`chat.${name}` as CallbackName].data.safeParse(ev.body.data);
      assert.ok(shape.success, `${name} matches the catalogue: ${JSON.stringify(shape.error?.issues)}`);
      if (name.startsWith('ticket') || name.startsWith('agent') || name === 'escalation-triggered')
        assert.equal(ev.body.data.ticket_id, ticketId, name);
    }
    const assigned = events(cid)
      .filter((r) => r.path.endsWith('/agent-assigned'))
      .map((r) => r.body.data.operator_id);
    assert.deepEqual(assigned.sort(), [a.id, b.id].sort());
    const msgs = events(cid)
      .filter((r) => r.path.endsWith('/message-received'))
      .map((r) => r.body.data.message.seq);
    assert.deepEqual(
      [...new Set(msgs)].sort((x, y) => x - y),
      [1, 2, 3, 4, 5],
    );
    assert.equal((await eventOf(cid, 'escalation-triggered')).body.data.reason, 'bot_escalated');
  });

  it('a bot that times out or fails escalates to a human after its retries (reason bot_unavailable)', async () => {
    for (const text of ['hang', 'crash']) {
      const cid = await botConversation(`visitor-${text}`);
      await say(cid, text);
      const d = await eventually(async () => {
        const r = await read(cid);
        return r.conversation.status === 'pending' ? r : null;
      }, 15_000);
      assert.equal(d.ticket.reason, 'bot_unavailable');
      assert.ok(!d.messages.some((m: any) => m.text === 'too late'), 'a late bot answer is not posted');
      assert.equal(bot.got.filter((r) => r.body.conversation_id === cid).length, 2, 'one retry');
    }
  });

  it('no bot configured: a bot-mode visitor goes straight to the human queue (no ticket)', async () => {
    const plain = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    const minted = await signed(relay.baseUrl, plain, 'POST', '/relay/mint/visitor-token', { visitor_user_id: 'u1', mode: 'bot' });
    const conv = await signed(relay.baseUrl, plain, 'POST', '/relay/create/conversation', { session_id: minted.body.data.session_id });
    assert.equal(conv.body.data.conversation.status, 'pending');
    assert.equal(conv.body.data.conversation.ticket_id, null);
    const again = await signed(relay.baseUrl, plain, 'POST', '/relay/mint/visitor-token', { visitor_user_id: 'u1' });
    assert.equal(again.status, 200, 'an identified visitor gets its live session back');
    assert.equal(again.body.data.session_id, minted.body.data.session_id);
    assert.equal(again.body.data.conversation_id, conv.body.data.conversation.id);
  });

  it('a reader never sees a queued conversation without its ticket (eight readers racing ten escalations)', async () => {
    for (let round = 0; round < 10; round++) {
      const cid = await botConversation(`visitor-race-${round}`);
      let done = false;
      const seen: { status: string; ticket: unknown }[] = [];
      let lastTs = 0; // a signature is single-use: every read gets its own millisecond
      const reader = async () => {
        while (!done) {
          lastTs = Math.max(Date.now(), lastTs + 1);
          const r = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`, undefined, {
            timestampMs: lastTs,
          });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const d = r.body.data;
          seen.push({ status: d.conversation.status, ticket: d.ticket });
        }
      };
      const readers = Promise.all(Array.from({ length: 8 }, reader));
      const esc = await signed(relay.baseUrl, creds, 'POST', '/relay/escalate/conversation', { conversation_id: cid, reason: 'race' });
      assert.equal(esc.status, 200);
      done = true;
      await readers;
      const orphaned = seen.filter((s) => s.status === 'pending' && !s.ticket);
      assert.equal(
        orphaned.length,
        0,
        `round ${round}: ${orphaned.length} of ${seen.length} reads saw a pending conversation without its ticket`,
      );
      assert.equal((await read(cid)).ticket.reason, 'race');
    }
  });

  it('an inbox that reads the ticket on each take, release and resolve event sees the ticket’s new state', async () => {
    // The inbox reads the ticket again when its socket says the conversation changed: the ticket must
    // already have followed by then (it once changed after the event, and an inbox showed it stale).
    // Sockets are served by an API process of its own (the in-process relay serves HTTP only).
    const api = await spawnApi(relay.env);
    const { operatorWs, closeAll } = socketPool('https://shop.example.com');
    const op = await provisionOperator(relay.baseUrl, creds, `inbox-reader@example.com`);
    const socket = operatorWs(api.url, op.token);
    await socket.next((f) => f.type === 'welcome');
    const seen: string[] = [];
    try {
      for (let round = 0; round < 10; round++) {
        const cid = await botConversation(`visitor-inbox-${round}`);
        assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/escalate/conversation', { conversation_id: cid })).status, 200);
        for (const [action, change, ticket] of [
          ['take', 'assigned', 'assigned'],
          ['release', 'released', 'open'],
          ['take', 'assigned', 'assigned'],
          ['resolve', 'resolved', 'resolved'],
        ] as const) {
          const from = socket.frames.length; // this action's event, not the same change's earlier one
          const event = socket.next(
            (f) => socket.frames.indexOf(f) >= from && f.type === 'conversation' && f.conversation?.id === cid && f.change === change,
          );
          const done = asOperator(relay.baseUrl, op.token, 'POST', `/operator/${action}/conversation`, { conversation_id: cid });
          await event;
          const r = await asOperator(relay.baseUrl, op.token, 'GET', `/operator/fetch/conversation?conversation_id=${cid}&limit=1`);
          seen.push(`${change}:${r.body.data.ticket?.status}`);
          assert.equal(r.body.data.ticket?.status, ticket, `round ${round}, on ${change}: ${seen.join(' ')}`);
          assert.equal((await done).status, 200);
        }
      }
    } finally {
      await closeAll();
      await api.kill();
    }
  });

  it('escalating a conversation not in the bot lane is a 409', async () => {
    const cid = await botConversation('visitor-esc');
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/escalate/conversation', { conversation_id: cid })).status, 200);
    const second = await signed(relay.baseUrl, creds, 'POST', '/relay/escalate/conversation', { conversation_id: cid });
    assert.equal(second.status, 409);
  });
});
