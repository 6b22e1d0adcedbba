/**
 * The Auth Relay's sudo, approver-group, delegation and QR-login routes (docs/contract.md §2.3, §2.4) as client
 * methods, typed exactly as the relay's OpenAPI document (the SDK's tests compare every entry).
 */
import { ACTION_TYPES, APPROVAL_STATUSES, SUDO_ACTION_TYPES } from '../enums.js';
import { s } from '../schema.js';
import { validationField } from './auth.js';
import { route } from './spec.js';

const str = s.string;
const opt = s.optional;
const nul = s.nullable;

export const SUDO_DISPATCH_EVENT_TYPES = ['sudo_action', 'sudo_group_action', 'sudo_delegated_action'] as const;

/** One approver's answer, as the ApprovalEvent and fetch/event report it. */
export const approval = s.object({
  /** `backendUserId` is null for a person of another organisation (delegation). */
  who: s.object({ relay_user_linked_id: str(), backend_user_id: nul(str()), tenant_id: str() }),
  device: s.object({ device_id: str(), device_name: nul(str()) }),
  decision: s.enum(['approve', 'deny']),
  at: str(),
  /** ECDSA P-256 by the device key (V2 for sudo: over the hash of what it showed). */
  signature: str(),
  signed_at_ms: s.number(),
  /** sha256 hex of what the device showed (sudo); null for a push challenge. */
  display_hash: nul(str()),
});

/**
 * The ApprovalEvent: the `sudo.approval_event` callback's data, and what fetch/event answers. The
 * relay's one schema for both allows `pending`, which only fetch/event can answer: the callback is
 * sent once the request is final (docs/contract.md §2.4).
 */
export const approvalEvent = s.object({
  event_id: str(),
  instruction_id: str(),
  event_type: s.enum(['sudo_action', 'sudo_group_action', 'sudo_delegated_action', 'auth_challenge']),
  /** Null for a push challenge sent without one. */
  expected_action: nul(str()),
  /** One of ActionType for a sudo dispatch; null for a push challenge. */
  action_type: nul(str()),
  status: s.enum(APPROVAL_STATUSES),
  /** The user asked, for a single-user request. */
  user_socket_hash: nul(str()),
  /** Distinct people whose approval was needed. */
  threshold: s.int(),
  approvals: s.array(approval),
  denial_reason: nul(str()),
  expires_at: str(),
  decided_at: nul(str()),
});

const group = s.object({
  group_id: str(),
  name: str(),
  member_relay_user_linked_ids: s.array(str()),
  threshold: s.int(),
  deny_on_first_denial: s.boolean(),
  created_at: str(),
  updated_at: str(),
});

const grant = s.object({
  grant_id: str(),
  grantor_tenant_id: str(),
  grantee_tenant_id: str(),
  relay_user_linked_ids: s.array(str()),
  relay_group_linked_id: nul(str()),
  status: s.enum(['active', 'revoked']),
  created_at: str(),
  revoked_at: nul(str()),
});

export const SUDO_ROUTES = {
  /**
   * Asks people to approve an action on their paired devices: `sudo_action` (one of the people
   * listed), `sudo_group_action` (a quorum: the groups' threshold of distinct people, or
   * `threshold`), `sudo_delegated_action` (another tenant's people, `grantorTenantId`, through the
   * grants it gave you). `dataItems` (static, the default) or `dataFetchUrl` (dynamic). With an
   * `idempotencyKey` a repeat returns the same event (200), so it is retried.
   */
  sudoDispatch: route({
    method: 'POST',
    path: '/relay/sudo/dispatch',
    status: 201,
    body: s.object({
      event_type: s.enum(SUDO_DISPATCH_EVENT_TYPES),
      action_type: s.enum(ACTION_TYPES),
      instruction_id: str(),
      expected_action: str(),
      title: str(),
      description: opt(str()),
      custom_type: opt(s.enum(SUDO_ACTION_TYPES)),
      fields: opt(s.array(validationField)),
      relay_user_linked_id_list: opt(s.array(str())),
      relay_group_linked_id_list: opt(s.array(str())),
      grantor_tenant_id: opt(str()),
      threshold: opt(s.int()),
      data_access_type: s.enum(['static', 'dynamic']),
      data_items: opt(s.array(validationField)),
      data_fetch_url: opt(str()),
      ttl_seconds: opt(s.int()),
      idempotency_key: opt(str()),
    }),
    defaults: { data_access_type: 'static' },
    idempotent: (input) => input.idempotencyKey !== undefined,
    /** `number`: goldenNumber only, the number your page shows (the person picks it among the relay's three). */
    response: s.object({ event_id: str(), status: str(), expires_at: str(), number: opt(s.int()) }),
  }),
  /** The ApprovalEvent of one sudo event (status `pending` until it is final); give `eventId` or `instructionId`. */
  sudoFetchEvent: route({
    method: 'GET',
    path: '/relay/sudo/fetch/event',
    status: 200,
    query: s.exactlyOne({ event_id: opt(str()), instruction_id: opt(str()) }, ['event_id', 'instruction_id']),
    response: approvalEvent,
  }),
  /** Cancels a pending sudo event (409 when it is already final). */
  sudoCancel: route({
    method: 'POST',
    path: '/relay/sudo/cancel',
    status: 200,
    body: s.object({ event_id: str() }),
    response: s.object({ event_id: str(), status: s.literal('cancelled') }),
  }),
  /** What the user typed on your page for a `totp` / `goldenNumber` instruction; the relay compares it. */
  sudoSubmitResponse: route({
    method: 'POST',
    path: '/relay/sudo/submit-response',
    status: 200,
    body: s.object({ instruction_id: str(), response: str() }),
    response: s.object({ instruction_id: str(), status: str(), matched: s.boolean() }),
  }),

  // ----- approver groups (a threshold of distinct people) -----
  createGroup: route({
    method: 'POST',
    path: '/relay/sudo/create/group',
    status: 201,
    body: s.object({
      name: str(),
      member_relay_user_linked_ids: s.array(str()),
      threshold: s.int(),
      deny_on_first_denial: opt(s.boolean()),
    }),
    response: group,
  }),
  updateGroup: route({
    method: 'POST',
    path: '/relay/sudo/update/group',
    status: 200,
    body: s.atLeastOne(
      {
        group_id: str(),
        name: opt(str()),
        member_relay_user_linked_ids: opt(s.array(str())),
        threshold: opt(s.int()),
        deny_on_first_denial: opt(s.boolean()),
      },
      ['name', 'member_relay_user_linked_ids', 'threshold', 'deny_on_first_denial'],
    ),
    response: group,
  }),
  fetchGroups: route({ method: 'GET', path: '/relay/sudo/fetch/groups', status: 200, response: s.object({ groups: s.array(group) }) }),
  deleteGroup: route({
    method: 'POST',
    path: '/relay/sudo/delete/group',
    status: 200,
    body: s.object({ group_id: str() }),
    response: s.object({ group_id: str(), deleted: s.boolean() }),
  }),

  // ----- cross-organisation delegation (the grantor grants the grantee) -----
  createDelegationGrant: route({
    method: 'POST',
    path: '/relay/sudo/create/delegation-grant',
    status: 201,
    body: s.atLeastOne(
      {
        grantee_tenant_id: str(),
        relay_user_linked_id_list: opt(s.array(str())),
        relay_group_linked_id: opt(str()),
      },
      ['relay_user_linked_id_list', 'relay_group_linked_id'],
    ),
    response: grant,
  }),
  revokeDelegationGrant: route({
    method: 'POST',
    path: '/relay/sudo/revoke/delegation-grant',
    status: 200,
    body: s.object({ grant_id: str() }),
    response: grant,
  }),
  /** Each side sees its half: the grants this tenant `given` (as grantor) and `received` (as grantee). */
  fetchDelegationGrants: route({
    method: 'GET',
    path: '/relay/sudo/fetch/delegation-grants',
    status: 200,
    response: s.object({ given: s.array(grant), received: s.array(grant) }),
  }),

  // ----- QR login -----
  /** Starts a QR login for a page of `browserOrigin` (one of the tenant's `qr_login_allowed_origins`). */
  qrLoginInitiate: route({
    method: 'POST',
    path: '/relay/qr-login/initiate',
    status: 200,
    // browserUserAgent: the User-Agent your backend saw (the device shows a coarse description of it);
    // numberMatching: the answer's matchNumber is shown beside the code and picked on the device.
    body: s.object({ browser_origin: str(), browser_user_agent: opt(str()), number_matching: opt(s.boolean()) }),
    // qr_payload is what the relay signed: passed exactly as it is.
    response: s.object({
      session_id: str(),
      poll_token: str(),
      qr_payload: s.json(),
      qr_code_str: str(),
      signature: str(),
      expires: str(),
      browser: str(),
      match_number: nul(str()),
    }),
  }),
  /** `pending`, then `approved` (with who: the user fields are null until then) or `denied`, once; afterwards 410 (GoneError). */
  qrLoginPoll: route({
    method: 'GET',
    path: '/relay/qr-login/poll',
    status: 200,
    query: s.object({ session_id: str() }),
    extra: s.object({ poll_token: str() }),
    prepare: ({ pollToken, ...input }) => ({ input, headers: { 'X-QR-Poll-Token': String(pollToken) } }),
    response: s.object({
      session_id: str(),
      status: s.enum(['pending', 'approved', 'denied']),
      backend_user_id: nul(str()),
      relay_user_linked_id: nul(str()),
      user_socket_hash: nul(str()),
      device_id: nul(str()),
    }),
  }),
} as const;
