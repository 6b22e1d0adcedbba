/**
 * The conversation table (models/chat/conversation-machine.ts) walked through the real code, against
 * the real Redis and FerretDB: every (transition, state, actor) the table allows moves a conversation
 * to the transition's state, and every one it refuses is refused with the state unchanged. First
 * through `changeConversation` (the one way a state changes: the lock, the stale mark, the guarded
 * update the table builds), then through the entry points people use: the operator actions (take,
 * release, resolve: 409 when refused) and escalation.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import {
  conversationMachine,
  CONVERSATION_ACTORS,
  type ConversationActor,
  type ConversationWho,
} from '../../models/chat/conversation-machine.js';
import { changeConversation } from '../../models/chat/conversation-state.js';
import { ConversationModel, type ConversationDoc, type ConversationStatus } from '../../models/chat/conversation.js';
import { escalate } from '../../models/chat/escalation.js';
import type { OperatorIdentity } from '../../models/chat/operator.js';
import { releaseConversation, resolveConversation, takeConversation } from '../../models/chat/take-release-resolve.js';
import type { FlowDeps } from '../../models/platform/deps.js';
import { TenantModel, type TenantDoc } from '../../models/platform/tenant.js';
import { DomainError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { apiRedis } from '../../platform/redis.js';
import { everyMove } from '../../platform/state-machine.js';
import { provision } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';
import { auditLogger } from '../support/log-audit.js';

/** Runs `fns` a few at a time (the machine is shared: no need to hit FerretDB with every move at once). */
async function inBatches(fns: (() => Promise<void>)[], size = 20): Promise<void> {
  for (let i = 0; i < fns.length; i += size) await Promise.all(fns.slice(i, i + size).map((f) => f()));
}

describe('conversation state machine: every move through the real code', function () {
  this.timeout(120_000);
  let relay: Relay;
  let redis: Redis;
  let deps: FlowDeps;
  let tenant: TenantDoc;
  const op = (name: string): OperatorIdentity => ({ _id: newId('op'), tenant_id: '', display_name: name, routing_keys: [] });
  /** The operator holding every assigned conversation here; another agent; a tenant admin (not the holder). */
  const ops = { assignee: op('holder'), operator: op('agent'), admin: op('admin') };

  before(async () => {
    relay = await startRelay('chat_machines');
    redis = apiRedis(relay.config.redisUrl);
    deps = { config: relay.config, logger: auditLogger('machines'), redis, producer: relay.producer };
    const creds = await provision(relay.baseUrl);
    tenant = (await TenantModel.findOne({ _id: creds.tenantId }).lean<TenantDoc>())!;
    for (const o of Object.values(ops)) o.tenant_id = tenant._id;
  });
  after(async () => {
    await redis?.quit();
    await relay?.stop();
  });

  /** A conversation in `state` (assigned ones held by ops.assignee). */
  async function seed(state: ConversationStatus): Promise<string> {
    const id = newId('cnv');
    await ConversationModel.create({
      _id: id,
      tenant_id: tenant._id,
      session_id: newId('vs'),
      status: state,
      assignee_operator_id: state === 'assigned' ? ops.assignee._id : null,
      queued_at: state === 'bot' ? null : new Date(),
      last_seq: 0,
    });
    return id;
  }
  const statusOf = async (id: string) => (await ConversationModel.findOne({ _id: id }).lean<ConversationDoc>())?.status;

  function who(actor: ConversationActor): ConversationWho {
    if (actor === 'assignee' || actor === 'operator') return { kind: 'operator', operatorId: ops[actor]._id, admin: false };
    if (actor === 'admin') return { kind: 'operator', operatorId: ops.admin._id, admin: true };
    return { kind: actor };
  }
  /** Only an assigned conversation has an assignee to act. */
  const possible = (state: ConversationStatus, actor: ConversationActor) => actor !== 'assignee' || state === 'assigned';

  it('changeConversation: legal moves land on the table state, illegal ones change nothing', async () => {
    const moves = everyMove(conversationMachine, CONVERSATION_ACTORS).filter((m) => possible(m.state, m.actor));
    const failures: string[] = [];
    await inBatches(
      moves.map((m) => async () => {
        const id = await seed(m.state);
        const doc = await changeConversation(deps, tenant._id, id, { transitions: [m.name], by: who(m.actor) }, {});
        const now = await statusOf(id);
        const want = m.legal ? m.to : m.state;
        if (!!doc !== m.legal || now !== want)
          failures.push(`${m.name} from ${m.state} by ${m.actor}: ${doc ? 'made' : 'refused'}, now ${now} (want ${want})`);
      }),
    );
    assert.deepEqual(failures, []);
    assert.ok(moves.filter((m) => m.legal).length >= 9, 'the walk made the legal moves');
  });

  it('operator actions: take, release, resolve do what the table says for each operator, 409 otherwise', async () => {
    const actions = {
      take: { fn: takeConversation, names: ['take'] },
      release: { fn: releaseConversation, names: ['release'] },
      resolve: { fn: resolveConversation, names: ['resolve', 'close'] },
    } as const;
    const failures: string[] = [];
    const runs: (() => Promise<void>)[] = [];
    for (const [action, a] of Object.entries(actions))
      for (const state of conversationMachine.states)
        for (const actor of ['assignee', 'operator', 'admin'] as const) {
          if (!possible(state, actor)) continue;
          const legal = a.names.some((n) => conversationMachine.can(n, state, actor));
          runs.push(async () => {
            const id = await seed(state);
            const outcome = await a
              .fn(deps, tenant, ops[actor], actor === 'admin' ? 'admin' : 'agent', id)
              .then(() => 'made')
              .catch((e: unknown) => (e instanceof DomainError ? e.code : String(e)));
            const now = await statusOf(id);
            const want = legal ? conversationMachine.get(a.names[0]).to : state;
            if (outcome !== (legal ? 'made' : 'CONFLICT') || now !== want)
              failures.push(`${action} from ${state} by ${actor}: ${outcome}, now ${now} (want ${want})`);
          });
        }
    await inBatches(runs);
    assert.deepEqual(failures, []);
  });

  it('escalation: only from the bot lane, by the bot, the backend or the relay', async () => {
    const reasons = { bot: 'bot_escalated', backend: 'backend', system: 'bot_unavailable' } as const;
    const failures: string[] = [];
    await inBatches(
      conversationMachine.states.flatMap((state) =>
        (Object.keys(reasons) as (keyof typeof reasons)[]).map((actor) => async () => {
          const legal = conversationMachine.can('escalate', state, actor);
          const id = await seed(state);
          const doc = await escalate(deps, tenant, id, reasons[actor]);
          const now = await statusOf(id);
          const want = legal ? 'pending' : state;
          if (!!doc !== legal || now !== want) failures.push(`escalate from ${state} by ${actor}: now ${now} (want ${want})`);
        }),
      ),
    );
    assert.deepEqual(failures, []);
  });
});
