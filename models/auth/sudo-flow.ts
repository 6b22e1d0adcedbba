/**
 * Sudo step-up (docs/contract.md §2.4): "before this transfer runs, people approve it on devices they paired".
 * A dispatch is an approval request of kind `sudo` (the same state machine as a push challenge:
 * approval-state.ts) whose participants are the people to ask and whose threshold says how many
 * distinct people must approve:
 *   sudo_action            any one of the listed people (threshold 1);
 *   sudo_group_action      a group's threshold of distinct people (one person's three devices count once);
 *   sudo_delegated_action  people of another tenant (the grantor), only through its active grants.
 * Its end is announced to the tenant as the ApprovalEvent (`sudo.approval_event`), once per final state.
 */
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import type { FlowDeps } from '../platform/deps.js';
import { findRelayUserLink } from '../platform/relay-user-link.js';
import { findGroup, type ApproverGroupDoc } from './approver-group.js';
import { activeGrants } from './delegation-grant.js';
import { DeviceModel, type DeviceDoc } from './device.js';
import { loadFanout, type FanoutDevice } from './fanout-cache.js';
import { pairingsOfLink } from './pairing.js';
import type { ApprovalState, NewParticipant } from './approval-state.js';
import { tenantOfRecord, type TenantId } from '../platform/tenant-id.js';

export const SUDO_EVENT_TYPES = ['sudo_action', 'sudo_group_action', 'sudo_delegated_action'] as const;
export type SudoEventType = (typeof SUDO_EVENT_TYPES)[number];

/** Links are never deleted and a new pairing drops the entry, so it may live long; the TTL only bounds memory. */
const LINK_PAIRINGS_TTL_S = 3600;

/**
 * The user_socket_hashes of a link's pairings, or null when the link is not this tenant's; cached in
 * Redis, so a dispatch reads no MongoDB for the people it names (FerretDB answers the pairings query
 * by scanning). Only an existing link is cached: an entry means the link exists.
 */
async function socketHashesOfLink(deps: FlowDeps, tenantId: TenantId, linkId: string): Promise<string[] | null> {
  const key = redisKey.linkPairings(deps.config.queuePrefix, tenantId, linkId);
  const cached = await deps.redis.get(key);
  if (cached) return JSON.parse(cached) as string[];
  if (!(await findRelayUserLink(tenantId, linkId))) return null;
  const hashes = (await pairingsOfLink(tenantId, linkId)).map((p) => p.user_socket_hash);
  await deps.redis.set(key, JSON.stringify(hashes), 'EX', LINK_PAIRINGS_TTL_S);
  return hashes;
}

/** Drops the cache above when a pairing is made for a link. */
export async function forgetLinkPairings(deps: FlowDeps, tenantId: string, linkId: string): Promise<void> {
  await deps.redis.del(redisKey.linkPairings(deps.config.queuePrefix, tenantId, linkId));
}

/** A person of `tenantId` with every active device of their pairings; null when the link is not this tenant's. */
async function person(deps: FlowDeps, tenantId: TenantId, linkId: string): Promise<NewParticipant | null> {
  const hashes = await socketHashesOfLink(deps, tenantId, linkId);
  if (!hashes) return null;
  const fanouts = await Promise.all(hashes.map((h) => loadFanout(deps.redis, deps.config.queuePrefix, tenantId, h)));
  const devices: FanoutDevice[] = fanouts.flatMap((f) => f?.devices ?? []);
  return { tenantId, relayUserLinkedId: linkId, userSocketHash: hashes[0] ?? '', devices };
}

export type Approvers = { participants: NewParticipant[]; threshold: number; denyOnFirstDenial: boolean };

/**
 * Who is asked, and how many must approve. `tenantId` owns the links and groups named (the caller, or
 * for a delegated action the grantor). Unknown links or groups of the caller answer 404; a delegated
 * request that any grant does not cover answers 403 without saying whether the people exist.
 */
export async function resolveApprovers(
  deps: FlowDeps,
  a: {
    callerTenantId: TenantId;
    eventType: SudoEventType;
    grantorTenantId?: string;
    linkIds: string[];
    groupIds: string[];
    threshold?: number;
  },
): Promise<Approvers> {
  const grantor = a.eventType === 'sudo_delegated_action' ? a.grantorTenantId : a.callerTenantId;
  if (!grantor)
    throw new DomainError('VALIDATION_FAILED', 'The request body failed validation.', [
      'grantor_tenant_id: required for sudo_delegated_action',
    ]);
  const noGrant = () => new DomainError('FORBIDDEN', 'No active delegation grant covers these approvers.');

  // 1. A delegated request: every named person and group must be covered by an active grant.
  let owner: TenantId = a.callerTenantId;
  if (a.eventType === 'sudo_delegated_action') {
    const grants = await activeGrants(grantor, a.callerTenantId);
    const links = new Set(grants.flatMap((g) => g.relay_user_linked_ids));
    const groups = new Set(grants.flatMap((g) => (g.relay_group_linked_id ? [g.relay_group_linked_id] : [])));
    if (!grants[0] || a.linkIds.some((l) => !links.has(l)) || a.groupIds.some((g) => !groups.has(g))) throw noGrant();
    // The grantor as its grant records it (the grant, written by a proven grantor, is what lends
    // its people to the caller): the one id read from the request is not used as a tenant.
    owner = tenantOfRecord(grants[0].grantor_tenant_id);
  }

  // 2. The groups, and the people: listed ones and the groups' members, each once.
  const groups: ApproverGroupDoc[] = [];
  for (const id of a.groupIds) {
    const g = await findGroup(owner, id);
    if (!g)
      throw a.eventType === 'sudo_delegated_action'
        ? noGrant()
        : new DomainError('NOT_FOUND', 'An approver group you named is not one of yours.');
    groups.push(g);
  }
  const linkIds = [...new Set([...a.linkIds, ...groups.flatMap((g) => g.member_relay_user_linked_ids)])];
  const found = await Promise.all(linkIds.map((id) => person(deps, owner, id)));
  const people: NewParticipant[] = [];
  for (const p of found) {
    if (!p)
      throw a.eventType === 'sudo_delegated_action'
        ? noGrant()
        : new DomainError('NOT_FOUND', 'A relay_user_linked_id you named is not one of your relay_user links.');
    people.push(p);
  }

  // 3. The threshold: one person for a single action; the group's (or the one given) for a quorum. A
  // grantee may ask for more approvals than the grantor's group requires, never fewer: the quorum is
  // the grantor's rule, and the grant lends its people, not the power to lower it.
  const groupThreshold = groups.length ? Math.max(...groups.map((g) => g.threshold)) : 1;
  if (a.eventType === 'sudo_delegated_action' && groups.length && a.threshold !== undefined && a.threshold < groupThreshold)
    throw new DomainError('VALIDATION_FAILED', 'The request body failed validation.', [
      "threshold: must not be below the grantor's group threshold (leave it out to use the group's)",
    ]);
  const threshold = a.threshold ?? (a.eventType === 'sudo_action' ? 1 : groupThreshold);
  const reachable = people.filter((p) => p.devices.length > 0);
  if (reachable.length < threshold)
    throw new DomainError(
      'CONFLICT',
      `Only ${reachable.length} of the approvers ha${reachable.length === 1 ? 's' : 've'} a paired device; ${threshold} approval(s) are needed.`,
    );
  return { participants: reachable, threshold, denyOnFirstDenial: groups.some((g) => g.deny_on_first_denial) };
}

// ---- the ApprovalEvent --------------------------------------------------------------------------

/** What the tenant learns about each approval: who (its own users fully; another tenant's by link only), which device, when, the signature. */
export async function approvalEventData(s: ApprovalState) {
  const c = s.content;
  const approvals = await Promise.all(
    [...s.answers]
      .sort((x, y) => x.at.localeCompare(y.at))
      .map(async (a) => {
        const own = a.tenant_id === s.tenant_id;
        const [link, device] = await Promise.all([
          own ? findRelayUserLink(tenantOfRecord(a.tenant_id), a.relay_user_linked_id) : Promise.resolve(null),
          DeviceModel.findOne({ _id: a.device_id, tenant_id: a.tenant_id }, { device_name: 1 }).lean<Pick<DeviceDoc, 'device_name'>>(),
        ]);
        return {
          who: { relay_user_linked_id: a.relay_user_linked_id, backend_user_id: link?.backend_user_id ?? null, tenant_id: a.tenant_id },
          device: { device_id: a.device_id, device_name: device?.device_name ?? null },
          decision: a.decision,
          at: a.at,
          signature: a.device_signature,
          signed_at_ms: a.signed_at_ms,
          display_hash: a.display_hash ?? null,
        };
      }),
  );
  const denial = [...s.answers].reverse().find((a) => a.effect === 'deny');
  const status = s.status === 'pending' && s.expires_at.getTime() <= Date.now() ? 'expired' : s.status;
  return {
    event_id: s._id,
    instruction_id: s.instruction_id,
    event_type: (SUDO_EVENT_TYPES as readonly string[]).includes(String(c.event_type))
      ? (c.event_type as SudoEventType)
      : ('auth_challenge' as const),
    expected_action: typeof c.expected_action === 'string' ? c.expected_action : null,
    action_type: typeof c.action_type === 'string' ? c.action_type : null,
    status: status as 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled',
    user_socket_hash: s.participants.length === 1 && s.user_socket_hash ? s.user_socket_hash : null,
    threshold: s.threshold,
    approvals,
    // A quorum ends denied when it can no longer be reached; a single approver's own reason otherwise.
    denial_reason:
      s.status !== 'denied' ? null : s.threshold > 1 && !s.deny_on_first_denial ? 'quorum_unreachable' : (denial?.reason ?? 'user_denied'),
    expires_at: s.expires_at.toISOString(),
    decided_at: s.decided_at?.toISOString() ?? null,
  };
}
