/**
 * What the relay tells others about a user's passkeys:
 *   - the tenant, by a signed callback at {callback_url_base}/relay-callbacks/passkey
 *     (`passkey.registered`, `passkey.revoked`, `passkey.counter_regression`), durable and retried
 *     like every callback (models/platform/emit-event.ts);
 *   - the user, by a passive security alert on their paired devices (the same path as a new device:
 *     models/auth/approval-flow.ts), when the user has paired one with this tenant; none otherwise.
 */
import type { PasskeyDoc } from '../../../models/auth/passkey.js';
import { createApprovalRequest } from '../../../models/auth/approval-flow.js';
import { loadFanout } from '../../../models/auth/fanout-cache.js';
import { pairingsOfLink } from '../../../models/auth/pairing.js';
import { emitEvent } from '../../../models/platform/emit-event.js';
import type { TenantDoc } from '../../../models/platform/tenant.js';
import type { AppDeps } from '../../context.js';
import type { TenantEntry } from '../../../models/platform/tenant-store.js';

const ALERT_TTL_S = 7 * 86400;

export type PasskeyEvent = 'passkey.registered' | 'passkey.revoked' | 'passkey.counter_regression';

export async function emitPasskeyEvent(
  deps: AppDeps,
  tenant: TenantDoc,
  type: PasskeyEvent,
  p: PasskeyDoc,
  extra: { stored_counter?: number; presented_counter?: number } = {},
): Promise<void> {
  await emitEvent(deps, tenant, type, {
    backend_user_id: p.backend_user_id,
    relay_user_linked_id: p.relay_user_linked_id,
    credential_id: p.credential_id,
    name: p.name,
    device_type: p.device_type,
    backed_up: p.backed_up,
    ...extra,
  });
}

/**
 * A passive alert on every active device of the user's pairings with this tenant. Best effort: the
 * passkey change already happened and the tenant's callback is durable, so a failure here is logged,
 * not answered. Returns how many devices were alerted.
 */
export async function alertUserDevices(
  deps: AppDeps,
  entry: TenantEntry,
  linkId: string,
  alert: { alert_type: string; title: string; body: string; credential_id: string },
): Promise<number> {
  const tenant = entry.tenant;
  try {
    let alerted = 0;
    for (const pairing of await pairingsOfLink(entry.id, linkId)) {
      const fanout = await loadFanout(deps.redis, deps.config.queuePrefix, tenant._id, pairing.user_socket_hash);
      if (!fanout || fanout.devices.length === 0) continue;
      await createApprovalRequest(deps, {
        tenantId: tenant._id,
        kind: 'security-alert',
        pairing: fanout.pairing,
        devices: fanout.devices,
        content: alert,
        ttlSeconds: ALERT_TTL_S,
      });
      alerted += fanout.devices.length;
    }
    return alerted;
  } catch (err) {
    deps.logger.warn({ tenant_id: tenant._id, alert_type: alert.alert_type, err: String(err) }, 'passkey security alert not sent');
    return 0;
  }
}

export const tenantDisplayName = (t: TenantDoc): string => t.branding_display_name ?? t.tenant_name;
