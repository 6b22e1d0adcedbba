/**
 * Operators (docs/contract.md §3.3): humans answering a tenant's conversations. Idempotent on (tenant, email);
 * `routing_keys` restrict an operator to queues (null or [] = tenant-wide). The password is random,
 * stored only as a scrypt hash and never returned (operators sign in through tokens the tenant's
 * backend mints).
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

export const OPERATOR_ROLES = ['agent', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

const operatorSchema = new Schema(
  {
    _id: { type: String, required: true }, // op_…
    tenant_id: { type: String, required: true },
    email: { type: String, required: true },
    display_name: { type: String, required: true },
    routing_keys: { type: [String], default: [] },
    role: { type: String, enum: OPERATOR_ROLES, default: 'agent' },
    relay_user_linked_id: { type: String, required: true },
    status: { type: String, enum: ['active', 'disabled'], default: 'active' },
    /** Carried by every operator token; bumped when access changes (models/chat/operator-record.ts). */
    token_version: { type: Number, default: 0 },
  },
  { ...baseSchemaOptions, collection: 'chat_operators' },
);
// Idempotency of provisioning: one operator per (tenant, email).
operatorSchema.index({ tenant_id: 1, email: 1 }, { unique: true });

export type OperatorDoc = InferSchemaType<typeof operatorSchema> & { _id: string; created_at: Date; updated_at: Date };
export const OperatorModel = model('Operator', operatorSchema);

/** What the conversation rules need of an operator: a stored document or its hot record (operator-record.ts). */
export type OperatorIdentity = { _id: string; tenant_id: string; display_name: string; routing_keys?: string[] | null };

export async function findOperator(tenantId: TenantId, operatorId: string): Promise<OperatorDoc | null> {
  return OperatorModel.findOne({ _id: operatorId, tenant_id: tenantId }).lean<OperatorDoc>();
}

/** A tenant's operators, newest first (the console's list; a scan of the tenant's operators). */
export async function listOperators(
  tenantId: TenantId,
  page: { limit: number; offset: number },
): Promise<{ operators: OperatorDoc[]; total: number }> {
  const [operators, total] = await Promise.all([
    OperatorModel.find({ tenant_id: tenantId }).sort({ _id: -1 }).skip(page.offset).limit(page.limit).lean<OperatorDoc[]>(),
    OperatorModel.countDocuments({ tenant_id: tenantId }),
  ]);
  return { operators, total };
}
