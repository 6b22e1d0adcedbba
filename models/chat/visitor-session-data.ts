/**
 * Visitor sessions as the API reads and writes them: every function takes the proven tenant first
 * and puts it in the filter (models/platform/tenant-id.ts), so another tenant's session is not found.
 */
import { newId } from '../../platform/ids.js';
import type { TenantId } from '../platform/tenant-id.js';
import { SESSION_LIFETIME_MS, VisitorSessionModel, type VisitorSessionDoc } from './visitor-session.js';

export type NewSession = {
  origin: string;
  locale: string;
  metadata?: Record<string, unknown>;
  routing_key: string | null;
  mode: 'bot' | 'human';
  visitor_user_id?: string | null;
  visitor_email_hash?: string | null;
};

export function sessionOfTenant(tenant: TenantId, sessionId: string): Promise<VisitorSessionDoc | null> {
  return VisitorSessionModel.findOne({ _id: sessionId, tenant_id: tenant }).lean<VisitorSessionDoc>();
}

/** An identified visitor's newest unexpired session (the backend reuses it rather than open another). */
export function liveSessionOfVisitor(tenant: TenantId, visitorUserId: string, now = new Date()): Promise<VisitorSessionDoc | null> {
  return VisitorSessionModel.findOne({ tenant_id: tenant, visitor_user_id: visitorUserId, expires_at: { $gt: now } })
    .sort({ created_at: -1 })
    .lean<VisitorSessionDoc>();
}

/** A new session of SESSION_LIFETIME_MS. */
export async function insertVisitorSession(tenant: TenantId, fields: NewSession): Promise<VisitorSessionDoc> {
  const doc = await VisitorSessionModel.create({
    _id: newId('vs'),
    tenant_id: tenant,
    ...fields,
    expires_at: new Date(Date.now() + SESSION_LIFETIME_MS),
  });
  return doc.toObject() as unknown as VisitorSessionDoc;
}
