/**
 * Chat WebSocket frames beyond messages (docs/contract.md §3.1, §3.3): read receipts, typing indicators,
 * agent_joined / agent_left / status, and a visitor token expiring while its socket is open. Real
 * `ws` clients, real Redis and FerretDB; visitor and operator sockets sit on different API processes
 * (spawnApi), so every frame here also crosses the Redis fan-out.
 */
import assert from 'node:assert/strict';
import { mintVisitorToken, widgetKeyHash } from '../../api/principals/visitor.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import {
  asOperator,
  assignedConversation,
  createSession,
  provisionOperator,
  socketPool,
  type ChatClient,
  type Frame,
} from '../support/chat-client.js';
import { sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const isMsg = (text: string) => (f: Frame) => f.type === 'message' && f.message?.text === text;
/** Long enough for a frame that should not arrive (an echo, a leak) to have shown up, across processes. */
const QUIET_MS = 400;

describe('chat frames', function () {
  this.timeout(60_000);
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  /** Small idle timeout, so the liveness sweep (every idle/3) runs twice a second. */
  let fast: Child;
  let creds: TenantCreds;
  const { visitorWs, operatorWs, closeAll } = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('chat_frames');
    [api1, api2, fast] = await Promise.all([spawnApi(relay.env), spawnApi(relay.env), spawnApi({ ...relay.env, CHAT_WS_IDLE_MS: '1500' })]);
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN], rate_limit_per_min: 10_000 });
  });
  after(async () => {
    await closeAll();
    await Promise.all([api1?.kill(), api2?.kill(), fast?.kill()]);
    await relay?.stop();
  });

  /** A conversation on `routingKey`, visitor on API 1, operator on API 2, taken over the operator's socket. */
  const assigned = (routingKey: string, email: string) =>
    assignedConversation({
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

  const framesOf = (c: ChatClient, type: string) => c.frames.filter((f) => f.type === type);

  it('an operator who is not the assignee cannot type or mark read to the visitor: 409 on REST and on the socket, and the visitor sees nothing', async () => {
    const { visitor, cid } = await assigned('bystanders', 'owner@example.com');
    const otherOp = await provisionOperator(relay.baseUrl, creds, 'other-bystander@example.com', ['bystanders']);
    const rest = await asOperator(api1.url, otherOp.token, 'POST', '/operator/send/typing', { conversation_id: cid, on: true });
    assert.equal(rest.status, 409, JSON.stringify(rest.body));
    assert.equal(rest.body.error.code, 'CONFLICT');
    const other = operatorWs(api2.url, otherOp.token);
    await other.next((f) => f.type === 'welcome');
    other.send({ type: 'read', conversation_id: cid, seq: 1 });
    assert.equal((await other.next((f) => f.type === 'error')).status, 409);
    await sleep(QUIET_MS);
    assert.deepEqual([...framesOf(visitor, 'typing'), ...framesOf(visitor, 'read')], []);
  });

  it('read receipts flow both ways across processes, to the assignee only, with no echo to the sender', async () => {
    const { operator, visitor, cid } = await assigned('reads', 'reader@example.com');
    // Another operator on the same routing key, not the assignee: message-level traffic is not for it.
    const bystanderOp = await provisionOperator(relay.baseUrl, creds, 'bystander-reads@example.com', ['reads']);
    const bystander = operatorWs(api1.url, bystanderOp.token);
    await bystander.next((f) => f.type === 'welcome');

    operator.send({ type: 'message', conversation_id: cid, text: 'how can I help?' });
    const reply = await visitor.next(isMsg('how can I help?'));
    assert.equal(reply.message.seq, 2);

    // Visitor (API 1) → operator (API 2).
    visitor.send({ type: 'read', seq: 2 });
    const toOperator = await operator.next((f) => f.type === 'read');
    assert.deepEqual(toOperator, { type: 'read', from: 'visitor', conversation_id: cid, seq: 2 });

    // Operator (API 2) → visitor (API 1).
    operator.send({ type: 'read', conversation_id: cid, seq: 1 });
    const toVisitor = await visitor.next((f) => f.type === 'read');
    assert.deepEqual(toVisitor, { type: 'read', from: 'operator', seq: 1 });

    await sleep(QUIET_MS);
    assert.deepEqual(framesOf(visitor, 'read'), [toVisitor], 'the visitor gets no echo of its own receipt');
    assert.deepEqual(framesOf(operator, 'read'), [toOperator], 'the operator gets no echo of its own receipt');
    assert.deepEqual(framesOf(bystander, 'read'), [], 'an operator not assigned gets no receipts');
    assert.ok(!visitor.frames.some((f) => f.type === 'error') && !operator.frames.some((f) => f.type === 'error'));
  });

  it('typing indicators flow both ways across processes (on, then off), with no echo and no operator id to the visitor', async () => {
    const { operator, visitor, cid } = await assigned('typing', 'typist@example.com');

    visitor.send({ type: 'typing', on: true });
    visitor.send({ type: 'typing', on: false });
    const vOn = await operator.next((f) => f.type === 'typing' && f.on === true);
    const vOff = await operator.next((f) => f.type === 'typing' && f.on === false);
    assert.deepEqual(vOn, { type: 'typing', from: 'visitor', conversation_id: cid, on: true });
    assert.deepEqual(vOff, { type: 'typing', from: 'visitor', conversation_id: cid, on: false });

    operator.send({ type: 'typing', conversation_id: cid, on: true });
    operator.send({ type: 'typing', conversation_id: cid, on: false });
    const oOn = await visitor.next((f) => f.type === 'typing' && f.on === true);
    const oOff = await visitor.next((f) => f.type === 'typing' && f.on === false);
    // Exact shape: the operator's id is used for routing only and is not shown to the visitor.
    assert.deepEqual(oOn, { type: 'typing', from: 'operator', on: true });
    assert.deepEqual(oOff, { type: 'typing', from: 'operator', on: false });

    await sleep(QUIET_MS);
    assert.deepEqual(framesOf(visitor, 'typing'), [oOn, oOff], 'in order, and no echo of the visitor’s own typing');
    assert.deepEqual(framesOf(operator, 'typing'), [vOn, vOff], 'in order, and no echo of the operator’s own typing');
  });

  it('while a conversation waits in the queue, visitor typing reaches every eligible operator; once taken, only the assignee', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'queue-typing' });
    const [a, b, elsewhere] = await Promise.all([
      provisionOperator(relay.baseUrl, creds, 'qa@example.com', ['queue-typing']),
      provisionOperator(relay.baseUrl, creds, 'qb@example.com', ['queue-typing']),
      provisionOperator(relay.baseUrl, creds, 'qc@example.com', ['other-store']),
    ]);
    const wa = operatorWs(api2.url, a.token);
    const wb = operatorWs(api1.url, b.token);
    const wc = operatorWs(api2.url, elsewhere.token);
    await Promise.all([wa, wb, wc].map((w) => w.next((f) => f.type === 'welcome')));
    const visitor = visitorWs(api1.url, s.token);
    await visitor.next((f) => f.type === 'welcome');
    visitor.send({ type: 'message', text: 'anyone?', client_id: 'q' });
    const cid = (await visitor.next((f) => f.type === 'ack')).conversation_id as string;
    await Promise.all([wa.next(isMsg('anyone?')), wb.next(isMsg('anyone?'))]);

    visitor.send({ type: 'typing', on: true });
    const expected = { type: 'typing', from: 'visitor', conversation_id: cid, on: true };
    assert.deepEqual(await wa.next((f) => f.type === 'typing'), expected);
    assert.deepEqual(await wb.next((f) => f.type === 'typing'), expected);

    assert.equal((await asOperator(api1.url, a.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
    await visitor.next((f) => f.type === 'agent_joined');
    visitor.send({ type: 'typing', on: false });
    await wa.next((f) => f.type === 'typing' && f.on === false);
    await sleep(QUIET_MS);
    assert.equal(framesOf(wb, 'typing').length, 1, 'after the take, the other operator no longer gets typing');
    assert.deepEqual(framesOf(wc, 'typing'), [], 'an operator of another routing key never does');
    assert.ok(!wc.frames.some((f) => f.conversation?.id === cid || f.conversation_id === cid));
  });

  it('the visitor sees agent_joined / agent_left with the operator, and a status frame for each change (take, release, take, resolve)', async () => {
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'lifecycle' });
    const [first, second] = await Promise.all([
      provisionOperator(relay.baseUrl, creds, 'first@example.com', ['lifecycle']),
      provisionOperator(relay.baseUrl, creds, 'second@example.com', ['lifecycle']),
    ]);
    const operator = operatorWs(api2.url, first.token);
    await operator.next((f) => f.type === 'welcome');
    const visitor = visitorWs(api1.url, s.token);
    await visitor.next((f) => f.type === 'welcome');
    visitor.send({ type: 'message', text: 'help please', client_id: 'lc' });
    const cid = (await visitor.next((f) => f.type === 'ack')).conversation_id as string;
    await visitor.next((f) => f.type === 'status' && f.conversation.status === 'pending');
    await operator.next(isMsg('help please'));

    const statusAfter = (n: number) => visitor.next((f) => f.type === 'status' && framesOf(visitor, 'status').indexOf(f) === n);

    // Take over the socket (API 2).
    operator.send({ type: 'take', conversation_id: cid, ref: 't' });
    assert.equal((await operator.next((f) => f.type === 'result' && f.ref === 't')).ok, true);
    const joined = await visitor.next((f) => f.type === 'agent_joined');
    assert.deepEqual(joined, { type: 'agent_joined', operator: { id: first.id, display_name: 'first' } });
    const assignedStatus = await statusAfter(1);
    assert.equal(assignedStatus.conversation.id, cid);
    assert.equal(assignedStatus.conversation.status, 'assigned');
    assert.equal(assignedStatus.conversation.assignee_operator_id, first.id);

    // Release over the socket: agent_left names who left; back to pending.
    operator.send({ type: 'release', conversation_id: cid, ref: 'r' });
    assert.equal((await operator.next((f) => f.type === 'result' && f.ref === 'r')).ok, true);
    const left = await visitor.next((f) => f.type === 'agent_left');
    assert.deepEqual(left, { type: 'agent_left', operator: { id: first.id, display_name: 'first' } });
    const pending = await statusAfter(2);
    assert.equal(pending.conversation.status, 'pending');
    assert.equal(pending.conversation.assignee_operator_id, null);

    // Another operator takes and resolves over REST, on API 2 (the visitor is on API 1).
    assert.equal((await asOperator(api2.url, second.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
    assert.deepEqual(await visitor.next((f) => f.type === 'agent_joined' && f.operator.id === second.id), {
      type: 'agent_joined',
      operator: { id: second.id, display_name: 'second' },
    });
    assert.equal((await statusAfter(3)).conversation.status, 'assigned');
    const resolved = await asOperator(api2.url, second.token, 'POST', '/operator/resolve/conversation', { conversation_id: cid });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.deepEqual(await visitor.next((f) => f.type === 'agent_left' && f.operator.id === second.id), {
      type: 'agent_left',
      operator: { id: second.id, display_name: 'second' },
    });
    const done = await statusAfter(4);
    assert.equal(done.conversation.status, 'resolved');
    assert.ok(done.conversation.resolved_at);

    // The whole sequence, in order: each agent frame comes before the status of the same change.
    await sleep(QUIET_MS);
    const seq = visitor.frames
      .filter((f) => ['agent_joined', 'agent_left', 'status'].includes(f.type))
      .map((f) => (f.type === 'status' ? `status:${f.conversation.status}` : `${f.type}:${f.operator.display_name}`));
    assert.deepEqual(seq, [
      'status:pending',
      'agent_joined:first',
      'status:assigned',
      'agent_left:first',
      'status:pending',
      'agent_joined:second',
      'status:assigned',
      'agent_left:second',
      'status:resolved',
    ]);
    // The operator socket gets conversation frames, not the visitor-facing ones.
    assert.ok(!operator.frames.some((f) => ['agent_joined', 'agent_left', 'status'].includes(f.type)));
    assert.deepEqual(
      operator.frames.filter((f) => f.type === 'conversation').map((f) => `${f.change}:${f.conversation.status}`),
      ['started:pending', 'assigned:assigned', 'released:pending', 'assigned:assigned', 'resolved:resolved'],
    );
  });

  it('a visitor token that expires while its socket is open: closed with 4401; after a refresh, last_seq replays what was missed', async () => {
    // CHAT_VISITOR_TOKEN_TTL_SECONDS cannot go below 60, so the short-lived token is minted directly
    // with the relay's key (as the backend SDK path does); the sweep reads the expiry from the token.
    const s = await createSession(api1.url, creds, ORIGIN, { mode: 'human', routing_key: 'expiry' });
    const op = await provisionOperator(relay.baseUrl, creds, 'expiry@example.com', ['expiry']);
    const minted = mintVisitorToken(
      relay.config,
      { tid: creds.tenantId, sid: s.sessionId, wkh: widgetKeyHash(creds.widgetKey), org: ORIGIN },
      3,
    );
    const visitor = visitorWs(fast.url, minted.token);
    await visitor.next((f) => f.type === 'welcome');
    visitor.send({ type: 'message', text: 'before expiry', client_id: 'b' });
    const cid = (await visitor.next((f) => f.type === 'ack')).conversation_id as string;
    assert.equal((await asOperator(api1.url, op.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status, 200);
    assert.equal(
      (await asOperator(api1.url, op.token, 'POST', '/operator/send/message', { conversation_id: cid, text: 'answer' })).status,
      201,
    );
    assert.equal((await visitor.next(isMsg('answer'))).message.seq, 2);

    const closed = await Promise.race([
      visitor.closed,
      sleep(8000).then(() => assert.fail('the socket was still open 8 s after its token was minted for 3 s')),
    ]);
    const closedAt = Date.now();
    assert.equal(closed.code, 4401, `closed with ${closed.code} ${closed.reason}`);
    assert.match(closed.reason, /expired/);
    assert.ok(closedAt >= minted.expiresAt.getTime(), 'not before the token expired');
    assert.ok(closedAt - minted.expiresAt.getTime() < 3000, 'soon after: the sweep runs every idle/3 = 500 ms');

    // Meanwhile the operator writes twice.
    for (const text of ['while away 1', 'while away 2']) {
      const r = await asOperator(api1.url, op.token, 'POST', '/operator/send/message', { conversation_id: cid, text });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }

    // The expired token is still good for a refresh (another process), for the same session and conversation.
    const r = await fetch(`${api2.url}/api/v1/refresh/visitor-token`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${minted.token}`, Origin: ORIGIN },
    });
    const body = (await r.json()) as any;
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.data.session_id, s.sessionId);
    assert.equal(body.data.conversation_id, cid);

    const again = visitorWs(fast.url, body.data.visitor_token as string, { last_seq: 2 });
    const welcome = await again.next((f) => f.type === 'welcome');
    assert.equal(welcome.resume_after_seq, 2);
    assert.equal(welcome.conversation.id, cid);
    await again.next(isMsg('while away 2'));
    await sleep(QUIET_MS);
    assert.deepEqual(
      framesOf(again, 'message').map((f) => [f.message.seq, f.message.text]),
      [
        [3, 'while away 1'],
        [4, 'while away 2'],
      ],
    );

    // The new socket is not closed by the next sweeps (it checks each socket's own token), and live traffic flows.
    await sleep(1200);
    assert.equal(again.ws.readyState, again.ws.OPEN);
    again.send({ type: 'message', text: 'back again', client_id: 'back' });
    assert.equal((await again.next((f) => f.type === 'ack' && f.client_id === 'back')).seq, 5);
    const hist = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`);
    assert.deepEqual(
      hist.body.data.messages.map((m: Frame) => m.seq),
      [1, 2, 3, 4, 5],
    );
  });
});
