/**
 * Approver groups (docs/contract.md §2.4, decided): a tenant-owned set of people (relay_user links) with a
 * threshold — how many distinct people must approve a `sudo_group_action` — and whether the first
 * denial ends it. Every finder takes the tenant; a group of another tenant is not found.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

const groupSchema = new Schema(
  {
    _id: { type: String, required: true }, // grp_…
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    member_relay_user_linked_ids: { type: [String], default: [] },
    threshold: { type: Number, required: true },
    deny_on_first_denial: { type: Boolean, default: false },
  },
  { ...baseSchemaOptions, collection: 'approver_groups' },
);
// Serves listing a tenant's groups.
groupSchema.index({ tenant_id: 1, created_at: 1 });

export type ApproverGroupDoc = InferSchemaType<typeof groupSchema> & { _id: string; created_at: Date; updated_at: Date };
export const ApproverGroupModel = model('ApproverGroup', groupSchema);

export function findGroup(tenantId: TenantId, groupId: string): Promise<ApproverGroupDoc | null> {
  return ApproverGroupModel.findOne({ _id: groupId, tenant_id: tenantId }).lean<ApproverGroupDoc>();
}

export function groupsOf(tenant: TenantId): Promise<ApproverGroupDoc[]> {
  return ApproverGroupModel.find({ tenant_id: tenant }).sort({ created_at: 1 }).limit(500).lean<ApproverGroupDoc[]>();
}

export function toPublicGroup(g: ApproverGroupDoc) {
  return {
    group_id: g._id,
    name: g.name,
    member_relay_user_linked_ids: [...g.member_relay_user_linked_ids],
    threshold: g.threshold,
    deny_on_first_denial: g.deny_on_first_denial ?? false,
    created_at: g.created_at.toISOString(),
    updated_at: g.updated_at.toISOString(),
  };
}
