/**
 * Issue 20, "socket frames": typing, read and ping frames are limited per socket (api/chat/ws/
 * frame-budget.ts). A visitor floods 1,000 typing frames; the operator following the conversation
 * sees at most the budget's worth of them, and the visitor's socket stays open and usable.
 */
import assert from 'node:assert/strict';
import { provision } from '../support/client.js';
import { assignedConversation, socketPool } from '../support/chat-client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { SIGNAL_BUDGETS } from '../../api/chat/ws/frame-budget.js';

const ORIGIN = 'https://shop.example.com';

describe('chat sockets: signal frames are limited per socket', function () {
  this.timeout(120_000);
  let relay: Relay;
  let api: Child;
  const pool = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('ws_frames');
    api = await spawnApi(relay.env);
  });
  after(async () => {
    await pool.closeAll();
    await api?.kill();
    await relay?.stop();
  });

  it('a flood of 1,000 typing frames reaches the operator as at most the budget, and the socket stays open', async () => {
    const creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
    const { operator, visitor } = await assignedConversation({
      relayUrl: relay.baseUrl,
      visitorApi: api.url,
      operatorApi: api.url,
      creds,
      origin: ORIGIN,
      routingKey: 'sales',
      email: 'flood-op@example.com',
      visitorWs: pool.visitorWs,
      operatorWs: pool.operatorWs,
    });
    const typingSeen = () => operator.frames.filter((f) => f.type === 'typing' && f.from === 'visitor').length;
    const before = typingSeen();
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) visitor.send({ type: 'typing', on: i % 2 === 0 });
    // A message after the flood: once the operator has it, every typing frame before it was handled
    // (one socket's frames are handled in order, and both travel the same bus channel).
    visitor.send({ type: 'message', text: 'after the flood', client_id: 'after' });
    await visitor.next((f) => f.type === 'ack' && f.client_id === 'after', 30_000);
    await operator.next((f) => f.type === 'message' && f.message?.text === 'after the flood', 30_000);
    const elapsedS = (Date.now() - t0) / 1000;
    const seen = typingSeen() - before;
    const { burst, perSec } = SIGNAL_BUDGETS.typing;
    const budget = Math.floor(burst + perSec * elapsedS) + 1;
    assert.ok(seen >= 1, 'typing still reaches the operator');
    assert.ok(seen <= budget, `the operator got ${seen} typing frames from 1,000 sent in ${elapsedS.toFixed(1)} s (budget ${budget})`);
    assert.equal(visitor.ws.readyState, visitor.ws.OPEN, 'the flooding socket stays open');
  });
});
