/**
 * Dynamic sudo data (docs/contract.md §2.4, decided): for `data_access_type: dynamic` the relay fetches what the
 * approver sees from the tenant when the approver opens the request — POST {data_fetch_url}, signed
 * with HMAC #1 as a callback is, SSRF-guarded, 5 s, 64 KB — so the device shows what is current. What
 * it showed each device (and its hash, which the device signs) is kept with the request in Redis.
 */
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { createOutboundHttp, type OutboundHttp } from '../../platform/outbound-http.js';
import { signedHeaders } from '../../platform/signing.js';
import type { Config } from '../../platform/config.js';
import type { TenantFlowDeps } from '../platform/deps.js';
import { STATE_GRACE_MS, type ApprovalState } from './approval-state.js';

const FETCH_TIMEOUT_MS = 5000;
const FETCH_LIMIT_BYTES = 64 * 1024;

const clients = new WeakMap<Config, OutboundHttp>();
function http(config: Config): OutboundHttp {
  let c = clients.get(config);
  if (!c)
    clients.set(
      config,
      (c = createOutboundHttp({ timeoutMs: FETCH_TIMEOUT_MS, allowPrivateNetworks: config.callbackAllowPrivateNetworks })),
    );
  return c;
}

/** The `data_items` the tenant's endpoint answers for this approver, unvalidated (the caller validates). */
export async function fetchShownData(deps: TenantFlowDeps, r: ApprovalState, device: { _id: string; tenant_id: string }): Promise<unknown> {
  const url = r.content._data_fetch_url;
  const entry = await deps.tenants.get(r.tenant_id);
  if (typeof url !== 'string' || !entry) throw new DomainError('UPSTREAM_UNAVAILABLE', 'This request has no data endpoint.');
  const approver = r.participants.find((p) => p.device_ids.includes(device._id));
  const body = JSON.stringify({
    event_id: r._id,
    instruction_id: r.instruction_id,
    expected_action: r.content.expected_action ?? null,
    approver: { relay_user_linked_id: approver?.relay_user_linked_id ?? null, tenant_id: device.tenant_id, device_id: device._id },
  });
  const res = await http(deps.config).post(url, body, signedHeaders(r.tenant_id, entry.secrets[0] ?? '', body), {
    keepBytes: FETCH_LIMIT_BYTES,
    readLimitBytes: FETCH_LIMIT_BYTES,
    userAgent: 'BloonioRelay-SudoData/1',
  });
  if (!('statusCode' in res)) throw new DomainError('UPSTREAM_UNAVAILABLE', `The tenant's data endpoint is unreachable (${res.outcome}).`);
  if (res.outcome !== 'success' || res.truncated)
    throw new DomainError(
      'UPSTREAM_UNAVAILABLE',
      `The tenant's data endpoint answered ${res.truncated ? 'too much' : `HTTP ${res.statusCode}`}.`,
    );
  try {
    return (JSON.parse(res.responseBody) as { data_items?: unknown }).data_items;
  } catch {
    throw new DomainError('UPSTREAM_UNAVAILABLE', "The tenant's data endpoint did not answer JSON.");
  }
}

export type Shown = { data_items: unknown[]; display_hash: string };

/** What a device was shown of a request, kept as long as the request's state. */
export function shownTo(deps: TenantFlowDeps, r: ApprovalState, deviceId: string) {
  const key = redisKey.approvalShown(deps.config.queuePrefix, r.tenant_id, r._id);
  return {
    remember: async (s: Shown) => {
      await deps.redis
        .multi()
        .hset(key, deviceId, JSON.stringify(s))
        .pexpireat(key, r.expires_at.getTime() + STATE_GRACE_MS)
        .exec();
    },
    recall: async (): Promise<Shown | null> => {
      const v = await deps.redis.hget(key, deviceId);
      return v ? (JSON.parse(v) as Shown) : null;
    },
  };
}
