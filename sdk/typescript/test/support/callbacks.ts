/**
 * Signing a callback exactly as the relay signs its callbacks (for the refusals of forged ones, and
 * for each case of the adapters' half of the sudo protocol, which the relay's own events cannot all reach).
 */
import { randomBytes } from 'node:crypto';
import { sign } from '../../src/index.js';
import type { Tenant } from './relay.js';

export function approvalEnvelope(
  tenant: Tenant,
  instructionId: string,
  status: string,
  user: string | null,
  o: { action?: string; eventType?: string; approvals?: unknown[] } = {},
): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    event_id: `evt_${randomBytes(13).toString('hex')}`,
    event_type: 'sudo.approval_event',
    tenant_id: tenant.tenantId,
    created_at: now,
    data: {
      event_id: `chg_${randomBytes(13).toString('hex')}`,
      instruction_id: instructionId,
      event_type: o.eventType ?? 'auth_challenge',
      expected_action: o.action ?? 'transfer_funds',
      action_type: null,
      status,
      user_socket_hash: user,
      threshold: 1,
      approvals: o.approvals ?? [],
      denial_reason: null,
      expires_at: now,
      decided_at: now,
    },
  });
}

export function signed(
  tenant: Tenant,
  body: string,
  o: { secret?: string; tsMs?: number; tenantId?: string } = {},
): Record<string, string> {
  const ts = String(o.tsMs ?? Date.now());
  return {
    'Content-Type': 'application/json',
    'X-Bloonio-Tenant-Id': o.tenantId ?? tenant.tenantId,
    'X-Bloonio-Timestamp': ts,
    'X-Bloonio-Signature': sign(o.secret ?? tenant.tenantSecret, ts, body),
    'X-Bloonio-Event-Id': JSON.parse(body).event_id,
    'X-Bloonio-Event-Type': JSON.parse(body).event_type,
  };
}
