/**
 * Console accounts (docs/contract.md §3.5): a person who manages workspaces. FerretDB only indexes `_id`, and the
 * hot lookup is by address (sign-in, registration, reset), so the `_id` is derived from the
 * normalised address: `acc_` + 128 bits of SHA-256 — one `_id` lookup finds an account, uniqueness
 * is the primary key's, and an id reveals nothing an attacker could not compute from an address they
 * already know. (The price: an address cannot change; a new address is a new account.)
 *
 * Lifecycle: `pending` (registered, address not yet proven) → `active` (the emailed code was given,
 * or the account was made from an invitation link sent to that address).
 */
import { createHash } from 'node:crypto';
import { Schema, model, type InferSchemaType } from 'mongoose';
import type { Sealed } from '../../platform/secret-box.js';
import { baseSchemaOptions } from '../platform/common.js';

const sealedSchema = new Schema<Sealed>(
  { v: Number, kid: { type: String, required: true }, iv: String, tag: String, ct: String },
  { _id: false },
);

const accountSchema = new Schema(
  {
    _id: { type: String, required: true }, // acc_<32 hex>
    email: { type: String, required: true },
    display_name: { type: String, required: true },
    status: { type: String, enum: ['pending', 'active'], required: true, default: 'pending' },
    password_hash: { type: String, required: true },
    password_changed_at: { type: Date, default: null },
    locale: { type: String, enum: ['fr', 'en'], default: 'fr' },
    /** The organisation to create as the first workspace when the address is verified (registration without an invitation). */
    pending_organization: { type: String, default: null },
    /** TOTP (platform/totp.ts): the secret sealed under the master key, and when it was enrolled. */
    totp_secret: { type: sealedSchema, default: null },
    totp_enabled_at: { type: Date, default: null },
    /** Recovery codes, `r2:<id>:<argon2 hash>` of a 100-bit code (or the SHA-256 of an earlier 40-bit one), removed when used: models/console/account-flows.ts. */
    recovery_codes: { type: [String], default: [] },
    /**
     * Workspaces the account may belong to: a superset of the truth, which is each workspace's member
     * list (models/console/workspace.ts). Added before joining, removed after leaving, so a crash in
     * between leaves an extra id (filtered out when read), never a membership the account cannot list.
     */
    workspace_ids: { type: [String], default: [] },
    /** The account's own activity log (sign-ins, password and TOTP changes): models/console/audit.ts. */
    audit_seq: { type: Number, default: 0 },
    /** The newest audit entry's hash: the head of the tamper-evident chain (models/console/audit.ts). */
    audit_head: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'console_accounts' },
);

export type AccountDoc = InferSchemaType<typeof accountSchema> & { _id: string; created_at: Date; updated_at: Date };
export const AccountModel = model('ConsoleAccount', accountSchema);

/** Lower-cased and trimmed: `Jane@Example.com ` and `jane@example.com` are one account. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

export const accountIdOf = (email: string): string =>
  `acc_${createHash('sha256')
    .update(`bloonio/console/account/${normaliseEmail(email)}`)
    .digest('hex')
    .slice(0, 32)}`;

export function findAccount(accountId: string): Promise<AccountDoc | null> {
  return AccountModel.findById(accountId).lean<AccountDoc>();
}

export function findAccountByEmail(email: string): Promise<AccountDoc | null> {
  return findAccount(accountIdOf(email));
}

export function toPublicAccount(a: AccountDoc) {
  return {
    account_id: a._id,
    email: a.email,
    display_name: a.display_name,
    locale: (a.locale ?? 'fr') as 'fr' | 'en',
    totp_enabled: Boolean(a.totp_enabled_at),
    recovery_codes_left: a.recovery_codes?.length ?? 0,
    created_at: a.created_at.toISOString(),
  };
}
export type PublicAccount = ReturnType<typeof toPublicAccount>;
