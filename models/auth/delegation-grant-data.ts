/**
 * Delegation grants as the grantor writes them: every function takes the proven tenant (the grantor)
 * first and puts it in the filter (models/platform/tenant-id.ts), so a grant another tenant gave
 * answers as a missing one. The grantee is a plain id: the grantor names it, and owns nothing of it.
 */
import { newId } from '../../platform/ids.js';
import type { TenantId } from '../platform/tenant-id.js';
import { DelegationGrantModel, type DelegationGrantDoc } from './delegation-grant.js';

export type GrantFields = {
  grantee_tenant_id: string;
  relay_user_linked_ids: string[];
  relay_group_linked_id: string | null;
};

export async function insertGrant(grantor: TenantId, fields: GrantFields): Promise<DelegationGrantDoc> {
  const g = await DelegationGrantModel.create({ _id: newId('dgr'), grantor_tenant_id: grantor, ...fields });
  return g.toObject() as unknown as DelegationGrantDoc;
}

/** Revokes an active grant this tenant gave (idempotent); the grant as it now is, or null when it gave no such grant. */
export async function revokeGivenGrant(grantor: TenantId, grantId: string): Promise<DelegationGrantDoc | null> {
  await DelegationGrantModel.updateOne(
    { _id: grantId, grantor_tenant_id: grantor, status: 'active' },
    { $set: { status: 'revoked', revoked_at: new Date() } },
  );
  return DelegationGrantModel.findOne({ _id: grantId, grantor_tenant_id: grantor }).lean<DelegationGrantDoc>();
}
