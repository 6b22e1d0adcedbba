/**
 * A store write that never answers does not wedge a worker (issue 21). Batched writes go one at a
 * time per writer (models/platform/batch-insert.ts), so one insert left unanswered — a connection
 * the store stopped answering on, as across a FerretDB restart — held every later write of the
 * worker behind it, and every job waiting on one stayed active for good while the worker renewed
 * their locks. A chaos run showed it: six stored chat messages' jobs active forever after the
 * FerretDB restart, the messages never in MongoDB. Now a write unanswered past
 * STORE_WRITE_TIMEOUT_MS fails its callers; their jobs retry, and the writes behind it go ahead.
 * The worker reaches FerretDB through a FaultProxy that holds the answer to one insert for ten
 * minutes (for good, as far as this test goes); FerretDB itself still executes it.
 */
import assert from 'node:assert/strict';
import { Receiver } from '../fakes/receiver.js';
import { connect, createSession, wsUrl } from '../support/chat-client.js';
import { provision } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { eventually, spawnApi, spawnWorker, startRelay, type Child, type Relay } from '../support/harness.js';
import { MessageModel } from '../../models/chat/message.js';
import { auditLogger } from '../support/log-audit.js';
import { QUEUE } from '../../queues/names.js';
import { startWorkers } from '../../workers/runtime.js';
import type { Processors } from '../../workers/processors.js';

const ORIGIN = 'https://shop.example.com';

describe('a store write that never answers does not wedge a worker', function () {
  this.timeout(180_000);
  let relay: Relay;
  let proxy: FaultProxy;
  let worker: Child | undefined;
  let api: Child | undefined;
  let receiver: Receiver;

  before(async () => {
    relay = await startRelay('store-bound');
    receiver = await new Receiver().start();
    proxy = await new FaultProxy(Number(new URL(relay.env.MONGODB_URI!).port)).start();
    const uri = new URL(relay.env.MONGODB_URI!);
    uri.port = String(proxy.port);
    api = await spawnApi(relay.env);
    worker = await spawnWorker({ ...relay.env, MONGODB_URI: uri.toString(), STORE_WRITE_TIMEOUT_MS: '1500' });
  });
  after(async () => {
    proxy?.delayAnswers(null);
    await worker?.kill();
    await api?.kill();
    await proxy?.stop();
    await receiver?.stop();
    await relay?.stop();
  });

  it('a message whose insert gets no answer is stored by its retry, and the messages behind it are stored too', async () => {
    const creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN], callback_url_base: receiver.url });
    const s = await createSession(api!.url, creds, ORIGIN, { mode: 'human' });
    const ws = connect(wsUrl(api!.url, '/api/v1/ws/widget', { token: s.token }), { origin: ORIGIN });
    await ws.next((f) => f.type === 'welcome');
    const say = async (n: number) => {
      ws.send({ type: 'message', text: `m${n}`, client_id: `c${n}` });
      return (await ws.next((f) => f.type === 'ack' && f.client_id === `c${n}`)).conversation_id as string;
    };

    // The first insert of a message reaches FerretDB (which writes it); its answer does not come back.
    proxy.delayAnswers((request) => request.includes('chat_messages') && request.includes('insert'), 600_000);
    const conversationId = await say(1);
    await eventually(async () => proxy.delayed > 0, 30_000);
    proxy.delayAnswers(null);
    await say(2);
    await say(3);

    // All three stored once, and each message's callback delivered: long before the held answer
    // would come (ten minutes), so only the bound can have let them through.
    const stored = () => MessageModel.find({ conversation_id: conversationId }).lean();
    await eventually(async () => (await stored()).length === 3, 90_000, 200).catch(async () =>
      assert.fail(`stored: ${(await stored()).map((m) => m.text).join(', ') || 'none'}; worker: ${worker!.output().slice(-2000)}`),
    );
    assert.deepEqual((await stored()).map((m) => [m.seq, m.text]).sort(), [
      [1, 'm1'],
      [2, 'm2'],
      [3, 'm3'],
    ]);
    const texts = () =>
      new Set(
        receiver.received
          .filter((r) => r.headers['x-bloonio-event-type'] === 'chat.message-received' && r.answeredStatus === 200)
          .map((r) => (JSON.parse(r.body) as { data: { message: { text: string } } }).data.message.text),
      );
    await eventually(async () => texts().size === 3, 60_000, 200);
    assert.deepEqual([...texts()].sort(), ['m1', 'm2', 'm3']);
    await ws.close();
  });
});

describe('a job that never settles does not hold its worker slot', function () {
  this.timeout(120_000);
  let bound: Relay;
  before(async () => (bound = await startRelay('job-bound')));
  after(async () => bound?.stop());

  it('a job still running well past its timeout fails, so its retry runs and the worker goes on', async () => {
    // A processor that never settles and ignores its abort signal (as a hung store call would); its
    // retry answers. Bound: the job's timeout (CHAT_BOT_TIMEOUT_MS) + STORE_WRITE_TIMEOUT_MS + 5 s.
    const config = { ...bound.config, chatBotTimeoutMs: 300, storeWriteTimeoutMs: 200 };
    let calls = 0;
    const hang = (() => {
      calls++;
      return calls === 1 ? new Promise(() => undefined) : Promise.resolve('replied');
    }) as Processors['chat.bot-turn'];
    const fleet = await startWorkers(
      config,
      auditLogger('test'),
      { processors: { 'chat.bot-turn': hang } as unknown as Processors },
      { queues: [QUEUE.chat] },
    );
    try {
      const id = await bound.producer.enqueue('chat.bot-turn', {
        tenantId: 'tnt_bound',
        conversationId: 'cnv_bound',
        messageId: 'msg_bound',
      });
      const queue = bound.producer.queue(QUEUE.chat);
      const job = await eventually(
        async () => {
          const j = await queue.getJob(id);
          return j && (await j.getState()) === 'completed' ? j : null;
        },
        60_000,
        100,
      );
      assert.equal(calls, 2);
      assert.equal(job.returnvalue, 'replied');
      assert.match((job.stacktrace ?? []).join('\n'), /chat\.bot-turn still running 5500 ms after it started/);
    } finally {
      await fleet.close();
    }
  });
});
