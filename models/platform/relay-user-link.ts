/**
 * relay_user links (docs/contract.md §1.3, the "Stripe Connect" model). The relay never owns a tenant's users:
 * it links a tenant's backend_user_id to a relay-side id (the 24-hex `relay_user_linked_id`). A person
 * linked to several tenants has one link per tenant, and every lookup takes the tenant, so no tenant
 * can reach another tenant's link even by guessing its id.
 */
import { Schema, Types, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from './common.js';
import type { TenantId } from './tenant-id.js';

const linkSchema = new Schema(
  {
    tenant_id: { type: String, required: true },
    backend_user_id: { type: String, required: true },
    /** How the link was made: a pairing or a passkey registration (auth), an operator provisioning (chat). */
    sources: { type: [String], default: [] },
    display_name: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'relay_user_links' },
);
// One link per (tenant, backend user); serves the upsert at pairing and operator provisioning.
linkSchema.index({ tenant_id: 1, backend_user_id: 1 }, { unique: true });

export type RelayUserLinkDoc = InferSchemaType<typeof linkSchema> & { _id: Types.ObjectId };
export const RelayUserLinkModel = model('RelayUserLink', linkSchema);

export type LinkSource = 'pairing' | 'operator' | 'passkey';

/** Creates the link, or returns the existing one; idempotent under concurrent calls. */
export async function upsertRelayUserLink(
  tenantId: TenantId,
  backendUserId: string,
  source: LinkSource,
  displayName?: string,
): Promise<RelayUserLinkDoc> {
  const filter = { tenant_id: tenantId, backend_user_id: backendUserId };
  const update = {
    $setOnInsert: filter,
    $addToSet: { sources: source },
    ...(displayName ? { $set: { display_name: displayName } } : {}),
  };
  try {
    return (await RelayUserLinkModel.findOneAndUpdate(filter, update, { upsert: true, new: true }).lean()) as RelayUserLinkDoc;
  } catch (err) {
    // Two concurrent upserts can both miss and one hits the unique index: the other's link is there now.
    if ((err as { code?: number }).code === 11000) {
      return (await RelayUserLinkModel.findOneAndUpdate(filter, update, { new: true }).lean()) as RelayUserLinkDoc;
    }
    throw err;
  }
}

export async function findRelayUserLink(tenantId: TenantId, linkId: string): Promise<RelayUserLinkDoc | null> {
  if (!Types.ObjectId.isValid(linkId) || !/^[0-9a-f]{24}$/.test(linkId)) return null;
  return RelayUserLinkModel.findOne({ _id: linkId, tenant_id: tenantId }).lean<RelayUserLinkDoc>();
}

export async function findRelayUserLinkByBackendUser(tenantId: TenantId, backendUserId: string): Promise<RelayUserLinkDoc | null> {
  return RelayUserLinkModel.findOne({ tenant_id: tenantId, backend_user_id: backendUserId }).lean<RelayUserLinkDoc>();
}
