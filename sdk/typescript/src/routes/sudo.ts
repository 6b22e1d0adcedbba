/**
 * The Auth Relay's sudo, approver-group, delegation and QR-login routes, coded to the relay's
 * contract (tools/SUDO_CONTRACT.md) and marked `contract`: the SDK's tests compare them with the
 * relay's OpenAPI document as soon as it has them, leniently where the contract leaves fields
 * unnamed ("{group_id, …}": open objects).
 */
import { ACTION_TYPES, SUDO_ACTION_TYPES } from '../enums.js';
import { s } from '../schema.js';
import { validationField } from './auth.js';
import { route } from './spec.js';

const str = s.string;
const opt = s.optional;
const nul = s.nullable;

export const SUDO_DISPATCH_EVENT_TYPES = ['sudo_action', 'sudo_group_action', 'sudo_delegated_action'] as const;

/** One approver's answer, as the ApprovalEvent and fetch/event report it. */
export const approval = s.open({
  who: s.open({ relay_user_linked_id: str(), backend_user_id: nul(str()), tenant_id: str() }),
  device: s.open({ device_id: str(), device_name: str() }),
  decision: s.enum(['approve', 'deny']),
  at: str(),
  signature: nul(str()),
  signed_at_ms: nul(s.number()),
});

/** The ApprovalEvent (the callback's `data`, and what fetch/event answers; status may be pending there). */
export const approvalEventFields = {
  event_id: str(),
  instruction_id: str(),
  event_type: s.enum(['sudo_action', 'sudo_group_action', 'sudo_delegated_action', 'auth_challenge']),
  expected_action: str(),
  action_type: nul(s.enum(ACTION_TYPES)),
  user_socket_hash: nul(str()),
  approvals: s.array(approval),
  denial_reason: nul(str()),
  expires_at: str(),
  decided_at: nul(str()),
};

const group = s.open({ group_id: str() });
const grant = s.open({ grant_id: str() });

export const SUDO_ROUTES = {
  /** Creates a sudo validation event. With an `idempotencyKey` a repeat returns the same event, so it is retried. */
  sudoDispatch: route({
    method: 'POST',
    path: '/relay/sudo/dispatch',
    status: 201,
    contract: true,
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
      data_access_type: s.enum(['static', 'dynamic']),
      data_items: opt(s.array(validationField)),
      data_fetch_url: opt(str()),
      ttl_seconds: opt(s.int()),
      idempotency_key: opt(str()),
    }),
    defaults: { data_access_type: 'static' },
    idempotent: (input) => input.idempotencyKey !== undefined,
    response: s.open({ event_id: str(), status: str(), expires_at: str() }),
  }),
  /** The ApprovalEvent of one sudo event (status `pending` until it is final); give `eventId` or `instructionId`. */
  sudoFetchEvent: route({
    method: 'GET',
    path: '/relay/sudo/fetch/event',
    status: 200,
    contract: true,
    query: s.object({ event_id: opt(str()), instruction_id: opt(str()) }),
    prepare: (input) => {
      if ((input.eventId === undefined) === (input.instructionId === undefined)) {
        throw new TypeError('sudoFetchEvent: give exactly one of eventId / instructionId');
      }
      return { input };
    },
    response: s.open({ ...approvalEventFields, status: s.enum(['pending', 'approved', 'denied', 'expired', 'cancelled']) }),
  }),
  /** Cancels a pending sudo event (409 when it is already final). */
  sudoCancel: route({
    method: 'POST',
    path: '/relay/sudo/cancel',
    status: 200,
    contract: true,
    body: s.object({ event_id: str() }),
    response: s.open({ event_id: str(), status: str() }),
  }),
  /** What the user typed on your page for a `totp` / `goldenNumber` instruction; the relay compares it. */
  sudoSubmitResponse: route({
    method: 'POST',
    path: '/relay/sudo/submit-response',
    status: 200,
    contract: true,
    body: s.object({ instruction_id: str(), response: str() }),
    response: s.open({ instruction_id: str(), status: str(), matched: s.boolean() }),
  }),

  // ----- approver groups -----
  createGroup: route({
    method: 'POST',
    path: '/relay/sudo/create/group',
    status: 201,
    contract: true,
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
    contract: true,
    body: s.object({
      group_id: str(),
      name: opt(str()),
      member_relay_user_linked_ids: opt(s.array(str())),
      threshold: opt(s.int()),
      deny_on_first_denial: opt(s.boolean()),
    }),
    response: group,
  }),
  fetchGroups: route({ method: 'GET', path: '/relay/sudo/fetch/groups', status: 200, contract: true, response: s.open({}) }),
  deleteGroup: route({
    method: 'POST',
    path: '/relay/sudo/delete/group',
    status: 200,
    contract: true,
    body: s.object({ group_id: str() }),
    response: s.open({}),
  }),

  // ----- cross-organisation delegation (the grantor grants the grantee) -----
  createDelegationGrant: route({
    method: 'POST',
    path: '/relay/sudo/create/delegation-grant',
    status: 201,
    contract: true,
    body: s.object({
      grantee_tenant_id: str(),
      relay_user_linked_id_list: opt(s.array(str())),
      relay_group_linked_id: opt(str()),
    }),
    response: grant,
  }),
  revokeDelegationGrant: route({
    method: 'POST',
    path: '/relay/sudo/revoke/delegation-grant',
    status: 200,
    contract: true,
    body: s.object({ grant_id: str() }),
    response: s.open({}),
  }),
  /** The grants this tenant gave and received (each side sees only its half). */
  fetchDelegationGrants: route({
    method: 'GET',
    path: '/relay/sudo/fetch/delegation-grants',
    status: 200,
    contract: true,
    response: s.open({}),
  }),

  // ----- QR login -----
  /** Starts a QR login for a page of `browserOrigin` (one of the tenant's `qr_login_allowed_origins`). */
  qrLoginInitiate: route({
    method: 'POST',
    path: '/relay/qr-login/initiate',
    status: 200,
    contract: true,
    body: s.object({ browser_origin: str() }),
    response: s.open({ session_id: str(), poll_token: str(), qr_payload: s.json(), qr_code_str: str(), signature: str(), expires: str() }),
  }),
  /** `pending`, then `approved` (with who) or `denied` once; afterwards 410 (GoneError). */
  qrLoginPoll: route({
    method: 'GET',
    path: '/relay/qr-login/poll',
    status: 200,
    contract: true,
    query: s.object({ session_id: str() }),
    extra: s.object({ poll_token: str() }),
    prepare: ({ pollToken, ...input }) => ({ input, headers: { 'X-QR-Poll-Token': String(pollToken) } }),
    response: s.open({
      status: s.enum(['pending', 'approved', 'denied']),
      backend_user_id: opt(str()),
      relay_user_linked_id: opt(str()),
      user_socket_hash: opt(str()),
    }),
  }),
} as const;
