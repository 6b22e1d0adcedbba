/**
 * Passkeys (docs/contract.md §2.5): one WebAuthn credential registered by one user of one tenant.
 *
 * `_id` is `pkc_` + SHA-256(tenant_id, credential_id): the relay finds the credential a browser
 * presents by `_id` alone (the only filter FerretDB serves from an index), and the tenant is part of
 * the key, so the same authenticator registered with two tenants is two documents and a credential id
 * of tenant A presented to tenant B is simply not found. (`pk_` is the widget key prefix, hence `pkc_`.)
 * Every finder still puts tenant_id in the filter.
 *
 * States: active → revoked (soft delete: a revoked passkey never authenticates again and is listed as
 * revoked). The public key is stored as the COSE bytes simplewebauthn returned (base64url); nothing
 * here is secret, but only `toPublicPasskey` leaves the relay.
 */
import { createHash } from 'node:crypto';
import { Schema, model, type InferSchemaType } from 'mongoose';
import { withLock } from '../../platform/claims.js';
import { redisKey } from '../../platform/keys.js';
import { baseSchemaOptions } from '../platform/common.js';
import type { RedisKeyDeps } from '../platform/deps.js';
import type { TenantId } from '../platform/tenant-id.js';

const passkeySchema = new Schema(
  {
    _id: { type: String, required: true }, // pkc_… (passkeyDocId)
    tenant_id: { type: String, required: true },
    relay_user_linked_id: { type: String, required: true },
    /** Copied from the link at registration (a link's backend_user_id never changes): sign-in answers it without a link read. */
    backend_user_id: { type: String, required: true },
    /** The WebAuthn credential id, base64url, as the browser reports it. */
    credential_id: { type: String, required: true },
    public_key: { type: String, required: true }, // COSE_Key, base64url
    sign_count: { type: Number, required: true, default: 0 },
    transports: { type: [String], default: [] },
    aaguid: { type: String, default: null },
    /** singleDevice | multiDevice (backup eligible), and whether it is backed up now (updated at each sign-in). */
    device_type: { type: String, enum: ['singleDevice', 'multiDevice'], required: true },
    backed_up: { type: Boolean, required: true },
    user_verified_at_registration: { type: Boolean, required: true },
    rp_id: { type: String, required: true },
    origin: { type: String, required: true },
    name: { type: String, required: true },
    status: { type: String, enum: ['active', 'revoked'], required: true, default: 'active' },
    revoked_at: { type: Date, default: null },
    last_used_at: { type: Date, default: null },
    /** Sign-ins refused because the signature counter went backwards (a possibly cloned authenticator). */
    counter_regressions: { type: Number, default: 0 },
    last_counter_regression_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'passkeys' },
);
// Serves a user's list (fetch/passkeys, excludeCredentials, allowCredentials). FerretDB scans instead;
// these calls are per user and rare next to the sign-in verify, which goes by _id.
passkeySchema.index({ tenant_id: 1, relay_user_linked_id: 1, created_at: 1 });

export type PasskeyDoc = InferSchemaType<typeof passkeySchema> & { _id: string; created_at: Date; updated_at: Date };
export const PasskeyModel = model('Passkey', passkeySchema);

/** One sign-in's authenticator data, as verified. */
type PasskeyUse = { signCount: number; backedUp: boolean; deviceType: string };
type UseVerdict = { verdict: 'ok' | 'regressed' | 'revoked'; storedCount: number };

/** The document id of (tenant, credential id): deterministic, so a lookup needs no secondary index. */
export function passkeyDocId(tenantId: string, credentialId: string): string {
  return `pkc_${createHash('sha256').update(`${tenantId}\n${credentialId}`).digest('base64url')}`;
}

export async function findPasskey(tenantId: TenantId, credentialId: string): Promise<PasskeyDoc | null> {
  return PasskeyModel.findOne({ _id: passkeyDocId(tenantId, credentialId), tenant_id: tenantId }).lean<PasskeyDoc>();
}

/** One of this user's passkeys (any state), or null: another user's or another tenant's is not found. */
export async function findUserPasskey(tenantId: TenantId, linkId: string, credentialId: string): Promise<PasskeyDoc | null> {
  return PasskeyModel.findOne({
    _id: passkeyDocId(tenantId, credentialId),
    tenant_id: tenantId,
    relay_user_linked_id: linkId,
  }).lean<PasskeyDoc>();
}

export async function passkeysOfUser(tenantId: TenantId, linkId: string, o: { activeOnly?: boolean } = {}): Promise<PasskeyDoc[]> {
  const filter: Record<string, unknown> = { tenant_id: tenantId, relay_user_linked_id: linkId };
  if (o.activeOnly) filter.status = 'active';
  return PasskeyModel.find(filter).sort({ created_at: 1, _id: 1 }).lean<PasskeyDoc[]>();
}

export type NewPasskey = {
  relay_user_linked_id: string;
  backend_user_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number;
  transports: string[];
  aaguid: string | null;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  user_verified_at_registration: boolean;
  rp_id: string;
  origin: string;
  name: string;
};

export class DuplicateCredentialError extends Error {}

/** Inserts a new passkey; a credential id already known to this tenant (any user, any state) is refused. */
export async function insertPasskey(tenantId: TenantId, p: NewPasskey): Promise<PasskeyDoc> {
  try {
    const doc = await PasskeyModel.create({ ...p, _id: passkeyDocId(tenantId, p.credential_id), tenant_id: tenantId });
    return doc.toObject() as PasskeyDoc;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new DuplicateCredentialError('credential already registered');
    throw err;
  }
}

/**
 * Records a verified sign-in, and is the counter check itself (WebAuthn §6.1.1): one conditional
 * update that moves the stored counter forward only if the presented one is ahead of it (or, for an
 * authenticator that does not count, only while both stay 0), on an active passkey. Two sign-ins
 * presenting the same counter (a cloned authenticator used twice at once) cannot both pass: the
 * second finds the counter already moved. 'regressed' when the counter did not move forward,
 * 'revoked' when the passkey was revoked meanwhile (a revoke that landed first wins), else 'ok';
 * with the stored counter as it now is.
 *
 * The check and the update run under a per-passkey lock in Redis (platform/claims.ts withLock): a
 * guarded findOneAndUpdate is atomic on MongoDB, but FerretDB v1 runs it as a read then a write
 * (FerretDB/FerretDB#3040), and four concurrent sign-ins with one counter were seen all to pass there.
 */
export async function recordPasskeyUse(deps: RedisKeyDeps, tenantId: TenantId, credentialId: string, u: PasskeyUse): Promise<UseVerdict> {
  const _id = passkeyDocId(tenantId, credentialId);
  return withLock(
    deps.redis,
    redisKey.passkeyUseLock(deps.config.queuePrefix, tenantId, _id),
    { ttlMs: 5000, waitMs: 3000, busyMessage: 'This passkey is signing in elsewhere; try again shortly.' },
    () => checkAndRecordUse(_id, tenantId, u),
  );
}

async function checkAndRecordUse(_id: string, tenantId: string, u: PasskeyUse): Promise<UseVerdict> {
  const r = await PasskeyModel.findOneAndUpdate(
    { _id, tenant_id: tenantId, status: 'active', sign_count: u.signCount > 0 ? { $lt: u.signCount } : 0 },
    { $set: { sign_count: u.signCount, last_used_at: new Date(), backed_up: u.backedUp, device_type: u.deviceType } },
  ).lean();
  if (r) return { verdict: 'ok', storedCount: u.signCount };
  const now = await PasskeyModel.findOne({ _id, tenant_id: tenantId }, { status: 1, sign_count: 1 }).lean<{
    status: string;
    sign_count: number;
  }>();
  return { verdict: now?.status === 'active' ? 'regressed' : 'revoked', storedCount: now?.sign_count ?? 0 };
}

export async function recordCounterRegression(tenantId: TenantId, credentialId: string): Promise<void> {
  await PasskeyModel.updateOne(
    { _id: passkeyDocId(tenantId, credentialId), tenant_id: tenantId },
    { $inc: { counter_regressions: 1 }, $set: { last_counter_regression_at: new Date() } },
  );
}

export async function renamePasskey(tenantId: TenantId, linkId: string, credentialId: string, name: string): Promise<PasskeyDoc | null> {
  return PasskeyModel.findOneAndUpdate(
    { _id: passkeyDocId(tenantId, credentialId), tenant_id: tenantId, relay_user_linked_id: linkId },
    { $set: { name } },
    { new: true },
  ).lean<PasskeyDoc>();
}

/** active → revoked; null when this user has no such passkey. `changed` is false when it was already revoked. */
export async function revokePasskey(
  tenantId: TenantId,
  linkId: string,
  credentialId: string,
): Promise<{ passkey: PasskeyDoc; changed: boolean } | null> {
  const filter = { _id: passkeyDocId(tenantId, credentialId), tenant_id: tenantId, relay_user_linked_id: linkId };
  const updated = await PasskeyModel.findOneAndUpdate(
    { ...filter, status: 'active' },
    { $set: { status: 'revoked', revoked_at: new Date() } },
    { new: true },
  ).lean<PasskeyDoc>();
  if (updated) return { passkey: updated, changed: true };
  const seen = await PasskeyModel.findOne(filter).lean<PasskeyDoc>();
  return seen ? { passkey: seen, changed: false } : null;
}

/** What a tenant's backend sees: never the public key or the counter. */
export function toPublicPasskey(p: PasskeyDoc) {
  return {
    credential_id: p.credential_id,
    relay_user_linked_id: p.relay_user_linked_id,
    name: p.name,
    status: p.status,
    device_type: p.device_type,
    backed_up: p.backed_up,
    transports: p.transports ?? [],
    aaguid: p.aaguid ?? null,
    created_at: p.created_at.toISOString(),
    last_used_at: p.last_used_at?.toISOString() ?? null,
    revoked_at: p.revoked_at?.toISOString() ?? null,
  };
}
export type PublicPasskey = ReturnType<typeof toPublicPasskey>;
