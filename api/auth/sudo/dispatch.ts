/**
 * POST /relay/sudo/dispatch (docs/contract.md §2.4): ask people to approve an action on their paired devices.
 * The request path costs Redis only: the approvers (cached fan-outs), the live request and one batch
 * of jobs (models/auth/approval-flow.ts createRequest). Its end reaches the tenant as the ApprovalEvent.
 */
import { createHash } from 'node:crypto';
import { DuplicateInstructionError, createRequest, loadApprovalRequest, visibleStatus } from '../../../models/auth/approval-flow.js';
import { numberMatching } from '../../../models/auth/approval-rules.js';
import { resolveApprovers } from '../../../models/auth/sudo-flow.js';
import { newId } from '../../../platform/ids.js';
import { releaseIfHeld, settleClaim } from '../../../platform/claims.js';
import { redisKey } from '../../../platform/keys.js';
import type { AppDeps } from '../../context.js';
import { ApiError } from '../../errors.js';
import { defineRoute } from '../../route.js';
import { canonicalJson, displayHash } from '../device-protocol.js';
import { SUDO_TAGS, dispatchBody, dispatchResponse } from './schemas.js';

const IDEMPOTENCY_TTL_S = 86_400;
/**
 * The claim of an idempotency key is owned, as a chat client_id's is (api/chat/ws/client-ids.ts): it
 * holds the event id its dispatch will create, lives PENDING_TTL_S until that event exists, then 24 h.
 * A claim whose answer was lost (Redis executed the SET, then died or the connection dropped) is the
 * dispatch's own when a resent SET finds its event id, and is given back (compare-and-delete) once
 * Redis answers; a process dying mid-dispatch blocks the key for PENDING_TTL_S at most. Before, such a
 * claim had no owner: every repeat of the dispatch got 409 "still being created" for 24 h.
 */
const PENDING_TTL_S = 30;
/** How long a claim's last write is retried through a Redis outage (well inside PENDING_TTL_S). */
const SETTLE_MS = 15_000;

type Remembered = { event_id: string; body_hash: string; pending?: true };

/** goldenNumber: the number the tenant's page shows (and the person picks on the device); absent otherwise. */
const shownNumber = (expected: string | null | undefined) => (expected ? { number: Number(expected) } : {});

/** A dispatch already made with this idempotency key: the same body answers its event, another body 409. */
async function remembered(deps: AppDeps, tenantId: string, key: string, bodyHash: string) {
  const raw = await deps.redis.get(redisKey.sudoIdempotency(deps.config.queuePrefix, tenantId, key));
  if (!raw) return null;
  const r = JSON.parse(raw) as Remembered;
  if (r.body_hash !== bodyHash) throw new ApiError('CONFLICT', 'This idempotency_key was already used with another body.');
  // The first dispatch may still be creating its event: wait for it briefly.
  for (let i = 0; i < 20; i++) {
    const s = await loadApprovalRequest(deps, tenantId, r.event_id);
    if (s) return { event_id: s._id, status: visibleStatus(s), expires_at: s.expires_at.toISOString(), ...shownNumber(s.expected_number) };
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new ApiError('CONFLICT', 'A dispatch with this idempotency_key is still being created; try again.');
}

export const sudoDispatch = defineRoute({
  method: 'post',
  path: '/relay/sudo/dispatch',
  summary: 'Ask people to approve an action on their paired devices (sudo step-up)',
  description:
    "The approvers' devices get a push; the end (approved, denied, expired or cancelled) is POSTed once as a signed ApprovalEvent and readable with GET /relay/sudo/fetch/event.",
  docs: 'api.md#sudo-dispatch',
  tags: SUDO_TAGS,
  security: 'hmac',
  body: dispatchBody,
  response: dispatchResponse,
  successStatus: 201,
  errors: {
    403: 'no active delegation grant covers the approvers (never a hint whether they exist)',
    404: 'a relay_user link or group that is not yours',
    409: 'fewer approvers than needed have a paired device, the instruction_id is in use, or the idempotency_key was used with another body',
    429: 'an approver already had PUSH_FATIGUE_MAX prompts in the window: one budget per person for challenges and dispatches, whichever tenant asks (Retry-After)',
  },
  handler: async (ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const prefix = deps.config.queuePrefix;
    // 1. A repeat of an earlier dispatch (its idempotency key) answers that dispatch.
    const bodyHash = createHash('sha256').update(canonicalJson(ctx.state.body)).digest('hex');
    if (body.idempotency_key) {
      const again = await remembered(deps, tenant._id, body.idempotency_key, bodyHash);
      if (again) return { status: 200, message: 'Sudo event (idempotent repeat).', data: again };
    }
    const eventId = newId('sud');
    const idemKey = body.idempotency_key ? redisKey.sudoIdempotency(prefix, tenant._id, body.idempotency_key) : null;
    const pendingClaim = JSON.stringify({ event_id: eventId, body_hash: bodyHash, pending: true } satisfies Remembered);
    const giveBack = () =>
      idemKey ? settleClaim(() => releaseIfHeld(deps.redis, idemKey, pendingClaim), SETTLE_MS).catch(() => undefined) : undefined;
    if (idemKey) {
      let held: string | null;
      try {
        const claimed = await deps.redis.set(idemKey, pendingClaim, 'EX', PENDING_TTL_S, 'NX');
        held = claimed === 'OK' ? pendingClaim : await deps.redis.get(idemKey);
      } catch (err) {
        // No answer: the claim may be held all the same. Give it back (if it is ours) once Redis answers.
        await giveBack();
        throw err;
      }
      // Our own claim under a refused SET: the client resent the SET after a dropped connection.
      if (held !== pendingClaim) {
        const again = await remembered(deps, tenant._id, body.idempotency_key ?? '', bodyHash);
        if (again) return { status: 200, message: 'Sudo event (idempotent repeat).', data: again };
      }
    }
    try {
      // 2. Who is asked, and how many must approve.
      const approvers = await resolveApprovers(deps, {
        callerTenantId: principal.tenant.id,
        eventType: body.event_type,
        grantorTenantId: body.grantor_tenant_id,
        linkIds: body.relay_user_linked_id_list,
        groupIds: body.relay_group_linked_id_list,
        threshold: body.threshold,
      });
      // 3. What the devices show (and, for static data, the hash they sign), and the live request.
      const shown = { title: body.title, description: body.description ?? null, fields: body.fields, data_items: body.data_items ?? [] };
      // goldenNumber: the relay makes the numbers (the body has none), keeps the expected one from the devices.
      const golden = body.custom_type === 'goldenNumber' ? numberMatching() : null;
      const content = {
        event_type: body.event_type,
        action_type: body.action_type,
        expected_action: body.expected_action,
        custom_type: body.custom_type,
        ...shown,
        data_access_type: body.data_access_type,
        display: { title: body.title, subtitle: body.description ?? null, fields: body.fields },
        requester: {
          tenant_id: tenant._id,
          display_name: tenant.branding_display_name ?? tenant.tenant_name,
          logo_url: tenant.branding_logo_url ?? null,
        },
        threshold: approvers.threshold,
        ...(golden ? { numbers: golden.numbers } : {}),
        display_hash: body.data_access_type === 'static' ? displayHash(shown) : null,
        // Never shown to a device (the poll drops `_` fields): where the dynamic data comes from.
        ...(body.data_fetch_url ? { _data_fetch_url: body.data_fetch_url } : {}),
      };
      const request = await createRequest(deps, {
        tenantId: tenant._id,
        kind: 'sudo',
        id: eventId,
        participants: approvers.participants,
        threshold: approvers.threshold,
        denyOnFirstDenial: approvers.denyOnFirstDenial,
        instructionId: body.instruction_id,
        content,
        expectedNumber: golden ? String(golden.expected) : null,
        ttlSeconds: body.ttl_seconds,
      });
      // The event exists: the key now answers it for 24 h (retried through a Redis restart, inside the
      // pending claim's lifetime, so a repeat never creates a second event).
      if (idemKey)
        await settleClaim(
          () =>
            deps.redis.set(
              idemKey,
              JSON.stringify({ event_id: eventId, body_hash: bodyHash } satisfies Remembered),
              'EX',
              IDEMPOTENCY_TTL_S,
            ),
          SETTLE_MS,
        );
      return {
        message: `Sudo event dispatched to ${approvers.participants.length} approver(s); ${approvers.threshold} approval(s) needed.`,
        data: {
          event_id: request._id,
          status: request.status,
          expires_at: request.expires_at.toISOString(),
          ...shownNumber(request.expected_number),
        },
      };
    } catch (err) {
      await giveBack();
      if (err instanceof DuplicateInstructionError)
        throw new ApiError('CONFLICT', 'This instruction_id is in use by a live request; use a fresh one.');
      throw err;
    }
  },
});
