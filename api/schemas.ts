/** Schemas shared by several routes: tenant settings, origins, URLs, the success envelope. */
import { z } from 'zod';
import { TENANT_SETTING_FIELDS, type TenantDoc } from '../models/platform/tenant.js';

const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The URL as WHATWG parsing reads it, or null (zod runs every check, so a refine sees inputs the url check refused). */
function parsedUrl(u: string): URL | null {
  try {
    return new URL(u);
  } catch {
    return null;
  }
}

export const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .refine((u) => {
    const url = parsedUrl(u);
    return !url || (!url.username && !url.password);
  }, 'must not carry credentials');
export const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' }).max(2048);

/** A web origin: scheme, host and optional port, nothing else (no path, no trailing slash). */
export const webOrigin = z
  .string()
  .max(300)
  .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i, 'must be an origin like https://example.com');
/** Chat allowed origins also take app schemes such as app://com.example.shop. */
export const appOrIWebOrigin = z
  .string()
  .max(300)
  .regex(
    /^(https?:\/\/[a-z0-9.-]+(:\d{1,5})?|[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9._~-]+)$/i,
    'must be a web origin or an app scheme like app://com.example',
  );

/**
 * An email address, one schema for every route. The document says `format: email` and this pattern,
 * and the relay accepts exactly the pattern, which `format: email` accepts too (checked against the
 * fuzzer's validator): dot-separated atoms before the @ (at most 64 characters), host labels of 1–63
 * letters, digits and inner hyphens (never first or last: `a@b-.com` is refused; no `--` at the third
 * character, which IDNA reserves for punycode labels it would then check), a letter TLD.
 */
const EMAIL =
  /^(?=[^@]{1,64}@)(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:(?![A-Za-z0-9]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
export const emailAddress = z.email({ pattern: EMAIL, error: 'must be an email address' }).max(254);

/**
 * Rules between fields, in JSON Schema, for `.meta()` beside the `.refine()` that enforces them: the
 * document must state every rule the relay applies (the fuzzer checks both ways).
 */
export const fieldRules = {
  exactlyOne: (...keys: string[]) => ({ oneOf: keys.map((k) => ({ required: [k] })) }),
  atLeastOne: (...keys: string[]) => ({ anyOf: keys.map((k) => ({ required: [k] })) }),
  atMostOne: (...keys: string[]) => ({ not: { required: keys } }),
  /** The array field is present and holds at least one item. */
  nonEmpty: (key: string) => ({ required: [key], properties: { [key]: { minItems: 1 } } }),
  /** The field is present and holds this value (for `if`/`then` rules). */
  hasValue: (key: string, value: string) => ({ required: [key], properties: { [key]: { const: value } } }),
};

export const tenantSettings = z.object({
  tenant_name: z.string().trim().min(1).max(120),
  rate_limit_per_min: z.number().int().min(1).max(10_000),
  callback_url_base: httpUrl.nullable(),
  sudo_callback_path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a path starting with /')
    .max(200),
  branding_display_name: z.string().trim().min(1).max(120).nullable(),
  branding_logo_url: httpsUrl.nullable(),
  branding_primary_color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1a2b3c')
    .nullable(),
  qr_login_allowed_origins: z.array(webOrigin).max(50),
  webauthn_rp_id: z
    .string()
    .regex(HOST, 'must be a lower-case host name such as example.com')
    .nullable()
    .describe('A registrable domain, lower case as WebAuthn compares it (upper case is refused, not folded).'),
  webauthn_origins: z.array(webOrigin).max(50),
  passkeys_enabled: z.boolean().nullable(),
  webauthn_user_verification: z
    .enum(['required', 'preferred'])
    .describe("Passkeys: 'required' (default) refuses a registration or sign-in without user verification (PIN, biometrics)."),
  allowed_origins: z.array(appOrIWebOrigin).max(100),
  bot_webhook_url: httpUrl.nullable(),
  monthly_msg_quota: z.number().int().min(0).nullable(),
  agent_seats: z.number().int().min(0).max(100_000).nullable(),
  plan_tier: z.string().trim().min(1).max(40).nullable(),
  stripe_customer_id: z
    .string()
    .regex(/^cus_[A-Za-z0-9]{1,64}$/, 'must look like cus_…')
    .nullable(),
  // No '.' in keys: FerretDB refuses them in a document (and MongoDB discourages them); found by the fuzzer.
  feature_flags: z.record(z.string().regex(/^[a-z0-9_-]{1,64}$/, 'flag names are 1–64 characters of a-z 0-9 _ -'), z.boolean()),
});

export const publicTenant = tenantSettings.extend({
  tenant_id: z.string(),
  status: z.enum(['active', 'suspended']),
  widget_public_key: z.string(),
  suspended_at: z.string().nullable(),
  secret_rotation_grace_until: z.string().nullable(),
  /** The console workspace that owns the tenant; null when provisioned with the admin key. */
  workspace_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const isoDate = z.iso.datetime({ offset: true });

export type PublicTenant = z.infer<typeof publicTenant>;

/** The only shape of a tenant that leaves the relay: its settings, never its secret. */
export function toPublicTenant(t: TenantDoc): PublicTenant {
  const settings = Object.fromEntries(TENANT_SETTING_FIELDS.map((f) => [f, t[f] ?? null]));
  return {
    ...settings,
    feature_flags: (t.feature_flags ?? {}) as Record<string, boolean>,
    tenant_id: t._id,
    status: t.status,
    branding_display_name: t.branding_display_name ?? t.tenant_name,
    webauthn_user_verification: t.webauthn_user_verification ?? 'required', // tenants stored before the setting existed
    widget_public_key: t.widget_public_key,
    suspended_at: t.suspended_at?.toISOString() ?? null,
    secret_rotation_grace_until: t.previous_secret_expires_at?.toISOString() ?? null,
    workspace_id: t.workspace_id ?? null,
    created_at: t.created_at.toISOString(),
    updated_at: t.updated_at.toISOString(),
  } as PublicTenant;
}
