/** HTTP helpers for tests: admin calls, signed calls (HMAC #1 exactly as the seed's recipe), tenants. */
import { sign } from '../../platform/signing.js';
import { ADMIN_KEY } from './env.js';

export type Res<T = Record<string, unknown>> = {
  status: number;
  headers: Headers;
  body: T & { success: boolean; message: string; error?: { code: string; details: string[]; request_id: string } };
};

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Res<any>> {
  const r = await fetch(`${baseUrl}${path}`, { method, headers: init.headers, body: init.body });
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: r.status, headers: r.headers, body: body as Res<any>['body'] };
}

export function admin(baseUrl: string, method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<Res<any>> {
  return call(baseUrl, method, `/api/v1${path}`, {
    headers: { 'X-Admin-Key': key, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

export type TenantCreds = { tenantId: string; secret: string; widgetKey: string };

export async function provision(baseUrl: string, settings: Record<string, unknown> = {}): Promise<TenantCreds> {
  const r = await admin(baseUrl, 'POST', '/provision/tenant', { tenant_name: `t-${Math.random().toString(36).slice(2, 8)}`, ...settings });
  if (r.status !== 201) throw new Error(`provision failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { tenantId: r.body.data.tenant_id, secret: r.body.data.tenant_secret, widgetKey: r.body.data.widget_public_key };
}

export type SignOpts = {
  timestampMs?: number;
  signature?: string;
  omit?: ('tenant' | 'timestamp' | 'signature')[];
  tamperBody?: string;
  tenantId?: string;
  secret?: string;
};

/** The three HMAC #1 headers over `raw`, with knobs for the security suite to break each part. */
export function signedHeaders(creds: TenantCreds, raw: string, o: SignOpts = {}): Record<string, string> {
  const ts = String(o.timestampMs ?? Date.now());
  const h: Record<string, string> = {
    'X-Bloonio-Tenant-Id': o.tenantId ?? creds.tenantId,
    'X-Bloonio-Timestamp': ts,
    'X-Bloonio-Signature': o.signature ?? sign(o.secret ?? creds.secret, ts, raw),
  };
  if (o.omit?.includes('tenant')) delete h['X-Bloonio-Tenant-Id'];
  if (o.omit?.includes('timestamp')) delete h['X-Bloonio-Timestamp'];
  if (o.omit?.includes('signature')) delete h['X-Bloonio-Signature'];
  return h;
}

export async function signed(
  baseUrl: string,
  creds: TenantCreds,
  method: string,
  path: string,
  body?: unknown,
  o: SignOpts = {},
): Promise<Res<any>> {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = { ...signedHeaders(creds, raw, o), ...(raw ? { 'Content-Type': 'application/json' } : {}) };
  return call(baseUrl, method, `/api/v1${path}`, { headers, ...(raw ? { body: o.tamperBody ?? raw } : {}) });
}
