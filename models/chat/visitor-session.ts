/**
 * Visitor sessions (docs/contract.md §3.1): one per widget launch or in-app SDK identity. A session lives ~30
 * days; its short visitor tokens (~1 h) are refreshed against it. Expiry is checked in code (FerretDB
 * gives no TTL indexes we rely on). Every finder takes the tenant.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';

export const SESSION_LIFETIME_MS = 30 * 24 * 3600 * 1000;

const sessionSchema = new Schema(
  {
    _id: { type: String, required: true }, // vs_…
    tenant_id: { type: String, required: true },
    /** The origin the session was created for (web origin or app scheme); tokens are bound to it. */
    origin: { type: String, required: true },
    locale: { type: String, default: 'fr' },
    metadata: { type: Schema.Types.Mixed, default: {} },
    routing_key: { type: String, default: null },
    mode: { type: String, enum: ['bot', 'human'], default: 'bot' },
    /** Set for backend-minted sessions (identified visitors of in-app SDKs). */
    visitor_user_id: { type: String, default: null },
    visitor_email_hash: { type: String, default: null },
    /** The session's one conversation, created by its first message. */
    conversation_id: { type: String, default: null },
    expires_at: { type: Date, required: true },
  },
  { ...baseSchemaOptions, collection: 'chat_visitor_sessions' },
);
// Serves the backend's reuse of an identified visitor's session (mint_visitor_token).
sessionSchema.index({ tenant_id: 1, visitor_user_id: 1 });

export type VisitorSessionDoc = InferSchemaType<typeof sessionSchema> & { _id: string; created_at: Date; updated_at: Date };
export const VisitorSessionModel = model('VisitorSession', sessionSchema);

export async function findSession(tenantId: string, sessionId: string): Promise<VisitorSessionDoc | null> {
  return VisitorSessionModel.findOne({ _id: sessionId, tenant_id: tenantId }).lean<VisitorSessionDoc>();
}
