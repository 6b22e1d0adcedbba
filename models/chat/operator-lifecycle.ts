/**
 * Provisioning, editing and deprovisioning operators (the tenant's backend: api/chat/operators.ts; the
 * console: api/console/operators.ts). MongoDB is written first, then the hot record and the access
 * channel (operator-record.ts). Access changes — the status, the role, the routing keys — bump the
 * token version, so every token minted before stops working at once and open sockets close with 4401;
 * a display name alone does not.
 */
import { upsertRelayUserLink } from '../platform/relay-user-link.js';
import type { FlowDeps } from '../platform/deps.js';
import { newId } from '../../platform/ids.js';
import { OperatorModel, type OperatorDoc, type OperatorRole } from './operator.js';
import { announceChange } from './operator-record.js';
import type { TenantId } from '../platform/tenant-id.js';

/** The operator's status moves only by these transitions (both idempotent). */
export const OPERATOR_TRANSITIONS = {
  /** (Re)provisioning: a disabled operator is enabled again, with a new token version. */
  provision: { from: ['active', 'disabled'], to: 'active' },
  deprovision: { from: ['active', 'disabled'], to: 'disabled' },
} as const;

export type OperatorSettings = { display_name: string; routing_keys: string[]; role: OperatorRole };

const sameKeys = (a: readonly string[] | null | undefined, b: readonly string[]) =>
  (a ?? []).length === b.length && [...(a ?? [])].sort().join('\n') === [...b].sort().join('\n');

/** Whether going from `old` to these settings and status changes what the operator may do. */
const accessChanged = (old: OperatorDoc, s: Partial<OperatorSettings>, status: 'active' | 'disabled' | undefined) =>
  (status !== undefined && (old.status ?? 'active') !== status) ||
  (s.role !== undefined && (old.role ?? 'agent') !== s.role) ||
  (s.routing_keys !== undefined && !sameKeys(old.routing_keys, s.routing_keys));

/** Applies settings (and a status, if given) to an operator found by `filter`; bumps the version when access changed. */
async function apply(
  deps: FlowDeps,
  filter: Record<string, unknown>,
  set: Partial<OperatorSettings>,
  status?: 'active' | 'disabled',
): Promise<OperatorDoc | null> {
  const change = { ...set, ...(status ? { status } : {}) };
  const old = await OperatorModel.findOneAndUpdate(filter, { $set: change }, { new: false }).lean<OperatorDoc>();
  if (!old) return null;
  // Always re-read after a bump: a concurrent change may have bumped too, and the record takes the newest.
  const doc = accessChanged(old, set, status)
    ? await OperatorModel.findOneAndUpdate({ _id: old._id }, { $inc: { token_version: 1 } }, { new: true }).lean<OperatorDoc>()
    : ({ ...old, ...change } as OperatorDoc);
  if (!doc) return null;
  await announceChange(deps, doc);
  return doc;
}

/** Create or reuse (idempotent on tenant + email); provisioning a disabled operator enables it again. */
export async function provisionOperator(
  deps: FlowDeps,
  tenantId: TenantId,
  input: OperatorSettings & { email: string; backend_user_id?: string },
): Promise<{ operator: OperatorDoc; created: boolean }> {
  const { email, backend_user_id, ...settings } = input;
  const link = await upsertRelayUserLink(tenantId, backend_user_id ?? email, 'operator', settings.display_name);
  const filter = { tenant_id: tenantId, email };
  const to = OPERATOR_TRANSITIONS.provision.to;
  const existing = await apply(deps, filter, settings, to);
  if (existing) return { operator: existing, created: false };
  try {
    const created = await OperatorModel.create({ _id: newId('op'), ...filter, ...settings, relay_user_linked_id: String(link._id) });
    const doc = created.toObject() as unknown as OperatorDoc;
    await announceChange(deps, doc);
    return { operator: doc, created: true };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    // A concurrent provisioning of the same email won: apply these settings to its operator.
    const other = await apply(deps, filter, settings, to);
    if (!other) throw err;
    return { operator: other, created: false };
  }
}

/** Edits an operator of this tenant (the console); null when it has none by that id. Keeps its status. */
export async function updateOperator(
  deps: FlowDeps,
  tenantId: TenantId,
  operatorId: string,
  set: Partial<OperatorSettings>,
): Promise<OperatorDoc | null> {
  return apply(deps, { _id: operatorId, tenant_id: tenantId }, set);
}

/** Disables an operator of this tenant (idempotent); null when it has none by that id or email. */
export async function deprovisionOperator(
  deps: FlowDeps,
  tenantId: TenantId,
  by: { operator_id: string } | { email: string },
): Promise<OperatorDoc | null> {
  const filter = { tenant_id: tenantId, ...('operator_id' in by ? { _id: by.operator_id } : { email: by.email }) };
  return apply(deps, filter, {}, OPERATOR_TRANSITIONS.deprovision.to);
}
