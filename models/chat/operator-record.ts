/**
 * An operator's hot access record (Redis; MongoDB's chat_operators stays the durable copy): its token
 * version, status, role and routing keys. Every operator REST call and socket frame reads it (one GET,
 * never a MongoDB query on the hot path): a token is good only while the record is active and holds
 * the version the token carries, and the role and routing keys come from here, not from the token.
 *
 * Writes are monotonic in the version (a Lua compare-and-set), so a slow cache fill that read an older
 * document can never overwrite a newer record. A record missing from Redis (expired, flushed) is read
 * back from MongoDB by _id once. Every change is also published on one channel, so each API process
 * closes that operator's sockets at once (api/chat/ws/operator-socket.ts).
 */
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import type { FlowDeps } from '../platform/deps.js';
import { OperatorModel, type OperatorDoc, type OperatorRole } from './operator.js';

export type OperatorRecord = {
  _id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  routing_keys: string[];
  role: OperatorRole;
  status: 'active' | 'disabled';
  /** The token version: a token carrying another one is refused. */
  v: number;
};

/** What the access channel carries: the operator whose access changed and its new version. */
export type AccessChange = { tenant_id: string; operator_id: string; v: number; status: 'active' | 'disabled' };

/** Kept a little longer than the longest operator token (7 days); a missing record is read back from MongoDB. */
const RECORD_TTL_S = 8 * 86400;

// platform/lua/chat-operator-record-store.lua: writes only when no record is stored or the stored
// version is not newer (ties refresh the fields); 1 stored, 0 refused.
const STORE = defineScript<[record: string], [json: string, v: number, ttlS: number], 0 | 1>('chat-operator-record-store');

export function toRecord(o: OperatorDoc): OperatorRecord {
  return {
    _id: o._id,
    tenant_id: o.tenant_id,
    email: o.email,
    display_name: o.display_name,
    routing_keys: [...(o.routing_keys ?? [])],
    role: (o.role ?? 'agent') as OperatorRole,
    status: o.status === 'disabled' ? 'disabled' : 'active',
    v: o.token_version ?? 0,
  };
}

const keyOf = (deps: Pick<FlowDeps, 'config'>, tenantId: string, operatorId: string) =>
  redisKey.chatOperatorRecord(deps.config.queuePrefix, tenantId, operatorId);

/** Stores the record unless Redis already holds a newer version of it. */
export async function storeRecord(deps: Pick<FlowDeps, 'config' | 'redis'>, r: OperatorRecord): Promise<void> {
  await STORE.run(deps.redis, [keyOf(deps, r.tenant_id, r._id)], [JSON.stringify(r), r.v, RECORD_TTL_S]);
}

/** The operator's record: Redis, or (when missing there) MongoDB by _id, stored back. Null for no such operator. */
export async function readRecord(
  deps: Pick<FlowDeps, 'config' | 'redis'>,
  tenantId: string,
  operatorId: string,
): Promise<OperatorRecord | null> {
  const raw = await deps.redis.get(keyOf(deps, tenantId, operatorId));
  if (raw) return JSON.parse(raw) as OperatorRecord;
  const doc = await OperatorModel.findOne({ _id: operatorId, tenant_id: tenantId }).lean<OperatorDoc>();
  if (!doc) return null;
  const r = toRecord(doc);
  await storeRecord(deps, r);
  return r;
}

/**
 * After a change is stored in MongoDB: the record, the widget's cached online flag, and a message to
 * every API process (their sockets of this operator close unless they hold this version and it is active).
 */
export async function announceChange(deps: FlowDeps, doc: OperatorDoc): Promise<OperatorRecord> {
  const r = toRecord(doc);
  await storeRecord(deps, r);
  await deps.redis.del(redisKey.chatOnline(deps.config.queuePrefix, r.tenant_id));
  const change: AccessChange = { tenant_id: r.tenant_id, operator_id: r._id, v: r.v, status: r.status };
  await deps.redis.publish(redisKey.chatOperatorAccessChannel(deps.config.queuePrefix), JSON.stringify(change));
  return r;
}

/** widget-config's `online`: some active operator; cached a minute and dropped on every operator change. */
export async function tenantOnline(deps: Pick<FlowDeps, 'config' | 'redis'>, tenantId: string): Promise<boolean> {
  const key = redisKey.chatOnline(deps.config.queuePrefix, tenantId);
  const cached = await deps.redis.get(key);
  if (cached !== null) return cached === '1';
  const online = !!(await OperatorModel.exists({ tenant_id: tenantId, status: 'active' }));
  await deps.redis.set(key, online ? '1' : '0', 'EX', 60);
  return online;
}
