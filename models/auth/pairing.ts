/**
 * Pairing (docs/contract.md §2.1). Two records:
 *  - a pairing *intent*, written by `prepare-pairing`: what the tenant said about the user, and the
 *    single-use state of the pairing_proof that points at it (pending → consumed, guarded update);
 *  - the *pairing*, one per (tenant, user_socket_hash), made or refreshed when a device redeems a
 *    proof; it holds the user's relay_user link and owns several devices (models/auth/device.ts).
 * Every finder takes the tenant: a pairing of another tenant is simply not found.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

const userFields = {
  user_socket_hash: { type: String, required: true },
  backend_user_id: { type: String, required: true },
  display_name: { type: String, required: true },
  user_email: { type: String, default: null },
  user_phone: { type: String, default: null },
  first_name: { type: String, default: null },
  last_name: { type: String, default: null },
  display_logo_url: { type: String, default: null },
};

const intentSchema = new Schema(
  {
    _id: { type: String, required: true }, // pin_…
    tenant_id: { type: String, required: true },
    ...userFields,
    status: { type: String, enum: ['pending', 'consumed'], required: true, default: 'pending' },
    /** Checked in code (FerretDB has no TTL indexes); the proof also carries it, signed. */
    expires_at: { type: Date, required: true },
    consumed_at: { type: Date, default: null },
    consumed_by_device_id: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'pairing_intents' },
);
// Serves the guarded consume: findOneAndUpdate({_id, tenant_id, status: 'pending'}) (the _id index).
// Serves listing a user's recent intents (support, cleanup).
intentSchema.index({ tenant_id: 1, user_socket_hash: 1, created_at: -1 });

export type PairingIntentDoc = InferSchemaType<typeof intentSchema> & { _id: string; created_at: Date; updated_at: Date };
export const PairingIntentModel = model('PairingIntent', intentSchema);

const pairingSchema = new Schema(
  {
    _id: { type: String, required: true }, // pair_…
    tenant_id: { type: String, required: true },
    ...userFields,
    /** The 24-hex relay_user_linked_id (models/platform/relay-user-link.ts). */
    relay_user_linked_id: { type: String, required: true },
  },
  { ...baseSchemaOptions, collection: 'pairings' },
);
// One pairing per (tenant, user_socket_hash): serves every backend call addressed by user_socket_hash.
pairingSchema.index({ tenant_id: 1, user_socket_hash: 1 }, { unique: true });

export type PairingDoc = InferSchemaType<typeof pairingSchema> & { _id: string; created_at: Date; updated_at: Date };
export const PairingModel = model('Pairing', pairingSchema);

export async function findPairing(tenantId: TenantId, userSocketHash: string): Promise<PairingDoc | null> {
  return PairingModel.findOne({ tenant_id: tenantId, user_socket_hash: userSocketHash }).lean<PairingDoc>();
}

export async function findPairingById(tenantId: TenantId, pairingId: string): Promise<PairingDoc | null> {
  return PairingModel.findOne({ _id: pairingId, tenant_id: tenantId }).lean<PairingDoc>();
}

/** The pairings of one relay_user link (a user may be paired under several user_socket_hashes); rare calls, not indexed. */
export async function pairingsOfLink(tenantId: TenantId, linkId: string): Promise<PairingDoc[]> {
  return PairingModel.find({ tenant_id: tenantId, relay_user_linked_id: linkId }).lean<PairingDoc[]>();
}

/** Creates the pairing of (tenant, user_socket_hash) or refreshes its user fields; safe under concurrency. */
export type PairingUser = {
  user_socket_hash: string;
  backend_user_id: string;
  display_name: string;
  user_email: string | null;
  user_phone: string | null;
  first_name: string | null;
  last_name: string | null;
  display_logo_url: string | null;
  relay_user_linked_id: string;
};

export async function upsertPairing(tenantId: TenantId, newId: string, user: PairingUser): Promise<PairingDoc> {
  const filter = { tenant_id: tenantId, user_socket_hash: user.user_socket_hash };
  const update = { $setOnInsert: { _id: newId, tenant_id: tenantId }, $set: user };
  try {
    return (await PairingModel.findOneAndUpdate(filter, update, { upsert: true, new: true }).lean<PairingDoc>()) as PairingDoc;
  } catch (err) {
    // Two devices redeeming proofs for one user at once: one insert wins the unique index.
    if ((err as { code?: number }).code === 11000) {
      return (await PairingModel.findOneAndUpdate(filter, { $set: user }, { new: true }).lean<PairingDoc>()) as PairingDoc;
    }
    throw err;
  }
}
