/**
 * The Auth Relay's routes (and the platform's test callback) as client methods. Shapes: the relay's
 * OpenAPI document (`/api/v1/openapi.json`); the SDK's tests compare every entry with it.
 */
import { DATA_TYPES, SUDO_ACTION_TYPES, validationFields, type FieldInput } from '../enums.js';
import { s } from '../schema.js';
import { route } from './spec.js';

const str = s.string;
const opt = s.optional;
const nul = s.nullable;

export const validationField = s.object({ key: str(), title: str(), value: str(), data_type: s.enum(DATA_TYPES) });

const device = s.object({
  device_id: str(),
  pairing_id: str(),
  platform: s.enum(['android', 'ios', 'web', 'cli']),
  device_name: str(),
  status: s.enum(['active', 'revoked']),
  push_enabled: s.boolean(),
  fcm_token_pruned_reason: nul(str()),
  last_seen_at: nul(str()),
  revoked_at: nul(str()),
  created_at: str(),
});

const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'informational'] as const;
const sendFields = {
  instruction_id: str(),
  request_id: str(),
  status: s.enum(REQUEST_STATUSES),
  delivered_count: s.int(),
  failed_count: s.int(),
  polling_count: s.int(),
  pending_count: s.int(),
  fcm_message_ids: s.array(str()),
  failed_tokens_sample: s.array(s.object({ device_id: str(), error_code: nul(str()), pruned: s.boolean() })),
  sent_at: str(),
  expires_at: str(),
};
const sent = s.object(sendFields);

const passkeyFields = {
  credential_id: str(),
  relay_user_linked_id: str(),
  name: str(),
  status: s.enum(['active', 'revoked']),
  device_type: s.enum(['singleDevice', 'multiDevice']),
  backed_up: s.boolean(),
  transports: s.array(str()),
  aaguid: nul(str()),
  created_at: str(),
  last_used_at: nul(str()),
  revoked_at: nul(str()),
};
const passkey = s.object(passkeyFields);

/** The browser's credential JSON (`credential.toJSON()`), passed to the relay exactly as it is. */
const credentialBase = {
  id: str(),
  rawId: str(),
  type: s.literal('public-key'),
  authenticatorAttachment: opt(nul(s.enum(['platform', 'cross-platform']))),
  clientExtensionResults: opt(s.json()),
};
const registrationResponse = s.verbatim(
  s.object({
    ...credentialBase,
    response: s.object({ clientDataJSON: str(), attestationObject: str(), transports: opt(s.array(str())) }),
  }),
);
const authenticationResponse = s.verbatim(
  s.object({
    ...credentialBase,
    response: s.object({ clientDataJSON: str(), authenticatorData: str(), signature: str(), userHandle: opt(nul(str())) }),
  }),
);

export const AUTH_ROUTES = {
  // ----- platform -----
  /** Asks the relay for a signed `platform.test` callback at `{callback_url_base}/relay-callbacks/test`. */
  sendTestCallback: route({
    method: 'POST',
    path: '/relay/send/test-callback',
    status: 202,
    body: s.object({ note: opt(str()) }),
    response: s.object({ event_id: str(), delivery_id: str(), url: str(), created_at: str() }),
  }),

  // ----- pairing and devices -----
  /** A single-use `pairingProof` (~5 min) to forward to the device. Give `userEmail`, `userPhone` or both. */
  preparePairing: route({
    method: 'POST',
    path: '/relay/prepare-pairing',
    status: 201,
    body: s.atLeastOne(
      {
        user_socket_hash: str(),
        backend_user_id: str(),
        display_name: str(),
        user_email: opt(nul(str())),
        user_phone: opt(nul(str())),
        first_name: opt(nul(str())),
        last_name: opt(nul(str())),
        display_logo_url: opt(nul(str())),
      },
      ['user_email', 'user_phone'],
    ),
    response: s.object({ pairing_proof: str(), expires_in: s.int(), expires_at: str() }),
  }),
  /** The user's paired devices (active and revoked). */
  fetchDevices: route({
    method: 'GET',
    path: '/relay/fetch/devices',
    status: 200,
    query: s.object({ user_socket_hash: str() }),
    response: s.object({ user_socket_hash: str(), pairing_id: str(), relay_user_linked_id: str(), devices: s.array(device) }),
  }),
  /** Revokes one device. Idempotent (a revoked device answers 200 again), hence retried. */
  revokeDevice: route({
    method: 'POST',
    path: '/relay/revoke/device',
    status: 200,
    body: s.object({ user_socket_hash: str(), device_id: str() }),
    response: device,
    idempotent: true,
  }),

  // ----- push challenges and alerts -----
  /**
   * Pushes an approval challenge to the user's devices. `title` / `subtitle` / `fields` build
   * `display` when it is not given; `approvalEvent: true` also sends the ApprovalEvent to the sudo
   * callback path once the challenge is final (what `sudoRequired` sets). `numbers` (and
   * `expectedNumber`, one of them) go with `customType: 'goldenNumber'`, and only with it.
   */
  sendAuthChallenge: route({
    method: 'POST',
    path: '/relay/send/auth-challenge',
    status: 200,
    body: s.switch(
      {
        user_socket_hash: str(),
        instruction_id: str(),
        custom_type: s.enum(SUDO_ACTION_TYPES),
        expected_action: str(),
        backend_url: opt(str()),
        description: opt(str()),
        ttl_seconds: opt(s.int()),
        numbers: opt(s.array(s.int())),
        expected_number: opt(s.int()),
        display: opt(s.object({ title: str(), subtitle: opt(str()), fields: opt(s.array(validationField)) })),
        approval_event: opt(s.boolean()),
      },
      { field: 'custom_type', value: 'goldenNumber', requires: ['numbers'], forbids: ['numbers', 'expected_number'] },
    ),
    extra: s.object({
      title: opt(str()),
      subtitle: opt(str()),
      fields: opt(s.jsonOf<readonly FieldInput[]>()),
    }),
    prepare: ({ title, subtitle, fields, ...input }) => {
      if (input.display === undefined && title !== undefined) {
        input.display = { title, subtitle, fields: validationFields(fields as FieldInput[] | undefined) };
      }
      return { input };
    },
    response: sent,
  }),
  /** An informational alert on the user's devices (nothing to approve). */
  sendSecurityAlert: route({
    method: 'POST',
    path: '/relay/send/security-alert',
    status: 200,
    body: s.object({
      user_socket_hash: str(),
      title: str(),
      body: str(),
      alert_type: opt(str()),
      instruction_id: opt(str()),
      ttl_seconds: opt(s.int()),
    }),
    response: sent,
  }),
  /** Where a challenge or alert stands: per-device deliveries and, once decided, its outcome. */
  fetchDeliveryStatus: route({
    method: 'GET',
    path: '/relay/fetch/delivery-status',
    status: 200,
    query: s.object({ instruction_id: str() }),
    response: s.object({
      ...sendFields,
      kind: str(),
      outcome: nul(s.record()),
      deliveries: s.array(
        s.object({
          device_id: str(),
          status: str(),
          fcm_message_id: nul(str()),
          error_code: nul(str()),
          attempts: s.int(),
          sent_at: nul(str()),
        }),
      ),
    }),
  }),

  // ----- passkeys (WebAuthn) -----
  /** Registration options for the browser (`PublicKeyCredential.parseCreationOptionsFromJSON(options)`). */
  webauthnRegisterOptions: route({
    method: 'POST',
    path: '/relay/webauthn/register/options',
    status: 200,
    body: s.exactlyOne(
      {
        relay_user_linked_id: opt(str()),
        backend_user_id: opt(str()),
        username: str(),
        display_name: opt(str()),
        browser_origin: str(),
      },
      ['relay_user_linked_id', 'backend_user_id'],
    ),
    response: s.object({ options: s.json(), relay_user_linked_id: str(), backend_user_id: str(), expires_at: str() }),
  }),
  /** Verifies the browser's registration (`credential.toJSON()`, passed as it is) and stores the passkey. */
  webauthnRegisterVerify: route({
    method: 'POST',
    path: '/relay/webauthn/register/verify',
    status: 201,
    body: s.object({
      browser_origin: str(),
      response: registrationResponse,
      relay_user_linked_id: opt(str()),
      name: opt(str()),
    }),
    response: s.object({ ...passkeyFields, backend_user_id: str(), alerted_device_count: s.int() }),
  }),
  /** Sign-in options for the browser (`PublicKeyCredential.parseRequestOptionsFromJSON(options)`). */
  webauthnAuthenticateOptions: route({
    method: 'POST',
    path: '/relay/webauthn/authenticate/options',
    status: 200,
    body: s.object({ browser_origin: str(), relay_user_linked_id: opt(str()), backend_user_id: opt(str()) }),
    response: s.object({ options: s.json(), relay_user_linked_id: nul(str()), expires_at: str() }),
  }),
  /** Verifies a passkey sign-in; answers who signed in and the authenticator's flags. */
  webauthnAuthenticateVerify: route({
    method: 'POST',
    path: '/relay/webauthn/authenticate/verify',
    status: 200,
    body: s.object({ browser_origin: str(), response: authenticationResponse, relay_user_linked_id: opt(str()) }),
    response: s.object({
      backend_user_id: str(),
      relay_user_linked_id: str(),
      credential_id: str(),
      name: str(),
      user_verified: s.boolean(),
      backed_up: s.boolean(),
      device_type: s.enum(['singleDevice', 'multiDevice']),
      authenticated_at: str(),
    }),
  }),
  webauthnFetchPasskeys: route({
    method: 'POST',
    path: '/relay/webauthn/fetch/passkeys',
    status: 200,
    body: s.object({ relay_user_linked_id: str() }),
    response: s.object({ relay_user_linked_id: str(), backend_user_id: str(), passkeys: s.array(passkey) }),
  }),
  webauthnRenamePasskey: route({
    method: 'POST',
    path: '/relay/webauthn/rename/passkey',
    status: 200,
    body: s.object({ relay_user_linked_id: str(), credential_id: str(), name: str() }),
    response: passkey,
  }),
  /** Revokes a passkey (soft delete). Idempotent, hence retried. */
  webauthnRevokePasskey: route({
    method: 'POST',
    path: '/relay/webauthn/revoke/passkey',
    status: 200,
    body: s.object({ relay_user_linked_id: str(), credential_id: str() }),
    response: passkey,
    idempotent: true,
  }),
} as const;
