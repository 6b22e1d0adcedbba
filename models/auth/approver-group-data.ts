/**
 * Approver groups as the API writes them: every function takes the proven tenant first and puts it
 * in the filter (models/platform/tenant-id.ts), so another tenant's group answers as a missing one.
 */
import { newId } from '../../platform/ids.js';
import type { TenantId } from '../platform/tenant-id.js';
import { ApproverGroupModel, type ApproverGroupDoc } from './approver-group.js';

export type GroupFields = {
  name: string;
  member_relay_user_linked_ids: string[];
  threshold: number;
  deny_on_first_denial: boolean;
};

export async function insertGroup(tenant: TenantId, fields: GroupFields): Promise<ApproverGroupDoc> {
  const g = await ApproverGroupModel.create({ _id: newId('grp'), tenant_id: tenant, ...fields });
  return g.toObject() as unknown as ApproverGroupDoc;
}

/** The group after the change, or null when this tenant has no such group. */
export function changeGroup(tenant: TenantId, groupId: string, set: Partial<GroupFields>): Promise<ApproverGroupDoc | null> {
  return ApproverGroupModel.findOneAndUpdate({ _id: groupId, tenant_id: tenant }, { $set: set }, { new: true }).lean<ApproverGroupDoc>();
}

/** True when this tenant had the group. */
export async function removeGroup(tenant: TenantId, groupId: string): Promise<boolean> {
  const r = await ApproverGroupModel.deleteOne({ _id: groupId, tenant_id: tenant });
  return r.deletedCount > 0;
}
