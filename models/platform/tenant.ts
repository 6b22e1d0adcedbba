/**
 * The one `tenants` collection shared by both relays (docs/contract.md §1.1). The secret is stored sealed
 * (AES-256-GCM, platform/secret-box.ts); `toPublicTenant` is the only shape that leaves the relay,
 * and it never carries the secret.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import type { Sealed } from '../../platform/secret-box.js';
import { baseSchemaOptions } from './common.js';

const sealedSchema = new Schema<Sealed>(
  { v: Number, kid: { type: String, required: true }, iv: String, tag: String, ct: String },
  { _id: false },
);

const tenantSchema = new Schema(
  {
    _id: { type: String, required: true }, // tnt_…
    tenant_name: { type: String, required: true },
    status: { type: String, enum: ['active', 'suspended'], required: true, default: 'active' },
    suspended_at: { type: Date, default: null },
    secret: { type: sealedSchema, required: true },
    /** During a rotation with grace_seconds, the previous secret keeps working until this instant. */
    previous_secret: { type: sealedSchema, default: null },
    previous_secret_expires_at: { type: Date, default: null },
    widget_public_key: { type: String, required: true },
    rate_limit_per_min: { type: Number, required: true, default: 60 },
    callback_url_base: { type: String, default: null },
    sudo_callback_path: { type: String, default: '/api/sudo-callback' },
    branding_display_name: { type: String, default: null },
    branding_logo_url: { type: String, default: null },
    branding_primary_color: { type: String, default: null },
    qr_login_allowed_origins: { type: [String], default: [] },
    webauthn_rp_id: { type: String, default: null },
    webauthn_origins: { type: [String], default: [] },
    passkeys_enabled: { type: Boolean, default: null },
    /** Passkeys: 'required' (default) refuses a ceremony without user verification (PIN, biometrics). */
    webauthn_user_verification: { type: String, enum: ['required', 'preferred'], default: 'required' },
    allowed_origins: { type: [String], default: [] },
    bot_webhook_url: { type: String, default: null },
    monthly_msg_quota: { type: Number, default: null },
    agent_seats: { type: Number, default: null },
    plan_tier: { type: String, default: null },
    stripe_customer_id: { type: String, default: null },
    feature_flags: { type: Schema.Types.Mixed, default: {} },
    /** The console workspace that owns the tenant (models/console/workspace.ts); null when provisioned by the admin API. */
    workspace_id: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'tenants' },
);
// Serves GET /fetch/tenants (newest first, paginated).
tenantSchema.index({ created_at: -1 });
// Serves the widget's lookup of a tenant by its public key.
tenantSchema.index({ widget_public_key: 1 }, { unique: true });

export type TenantDoc = InferSchemaType<typeof tenantSchema> & { _id: string; created_at: Date; updated_at: Date };
export const TenantModel = model('Tenant', tenantSchema);

/** Settings a tenant can have, as the admin API reads and writes them. */
export const TENANT_SETTING_FIELDS = [
  'tenant_name',
  'rate_limit_per_min',
  'callback_url_base',
  'sudo_callback_path',
  'branding_display_name',
  'branding_logo_url',
  'branding_primary_color',
  'qr_login_allowed_origins',
  'webauthn_rp_id',
  'webauthn_origins',
  'passkeys_enabled',
  'webauthn_user_verification',
  'allowed_origins',
  'bot_webhook_url',
  'monthly_msg_quota',
  'agent_seats',
  'plan_tier',
  'stripe_customer_id',
  'feature_flags',
] as const;
