/**
 * Passkey registration (docs/contract.md §2.5), the tenant's backend brokering the browser's ceremony:
 *   POST /relay/webauthn/register/options → `data.options` for navigator.credentials.create
 *   POST /relay/webauthn/register/verify  → the browser's `credential.toJSON()`, verified and stored.
 */
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import { DuplicateCredentialError, insertPasskey, passkeysOfUser, toPublicPasskey } from '../../../models/auth/passkey.js';
import { saveChallenge } from '../../../models/auth/webauthn-challenge.js';
import { findRelayUserLink, upsertRelayUserLink, type RelayUserLinkDoc } from '../../../models/platform/relay-user-link.js';
import { ApiError, notFound } from '../../errors.js';
import { defineRoute } from '../../route.js';
import { alertUserDevices, emitPasskeyEvent, tenantDisplayName } from './notify.js';
import { callerRelyingParty, simplewebauthn, takeCeremonyChallenge, userHandleOf, verificationRefused } from './relying-party.js';
import {
  WEBAUTHN_TAGS,
  backendUserId,
  browserOrigin,
  creationOptionsJson,
  passkeyName,
  publicPasskey,
  registrationResponse,
  relayUserLinkedId,
} from './schemas.js';
import { fieldRules } from '../../schemas.js';

/** Bounds the user's lists (exclude/allow lists, fetch) and a runaway registration loop. */
export const MAX_PASSKEYS_PER_USER = 20;

export const registerOptions = defineRoute({
  method: 'post',
  path: '/relay/webauthn/register/options',
  summary: 'Passkey registration, step 1: the options for navigator.credentials.create',
  description:
    "Give the user as `relay_user_linked_id` or `backend_user_id`. Answers `data.options`, the JSON `PublicKeyCredential.parseCreationOptionsFromJSON()` takes: a discoverable credential, user verification as the tenant's `webauthn_user_verification` says, the user's active passkeys excluded. The challenge is single use and expires after WEBAUTHN_CHALLENGE_TTL_SECONDS.",
  docs: 'api.md#passkey-registration',
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z
    .object({
      relay_user_linked_id: relayUserLinkedId.optional(),
      backend_user_id: backendUserId
        .optional()
        .describe('When the user has no link yet: the link is created (or reused) for this backend user.'),
      username: z.string().trim().min(1).max(64).describe("Shown by the browser and the authenticator's account picker, e.g. the email."),
      display_name: z.string().trim().min(1).max(64).optional().describe('Defaults to username.'),
      browser_origin: browserOrigin,
    })
    .strict()
    .refine((b) => (b.relay_user_linked_id === undefined) !== (b.backend_user_id === undefined), {
      message: 'give exactly one of relay_user_linked_id / backend_user_id',
      path: ['relay_user_linked_id'],
    })
    .meta(fieldRules.exactlyOne('relay_user_linked_id', 'backend_user_id')),
  response: z.object({
    options: creationOptionsJson,
    relay_user_linked_id: z.string(),
    backend_user_id: z.string(),
    expires_at: z.string(),
  }),
  errors: {
    403: 'passkeys are off for this tenant (FORBIDDEN), or browser_origin is not allowed (ORIGIN_NOT_ALLOWED)',
    404: 'a relay_user_linked_id this tenant does not have',
    409: `the user already has ${MAX_PASSKEYS_PER_USER} active passkeys`,
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const tenantId = principal.tenant.id;
    const rp = callerRelyingParty(tenant, body.browser_origin);
    // 1. The user: an existing link of this tenant, or one made for the backend user.
    let link: RelayUserLinkDoc | null;
    if (body.relay_user_linked_id) {
      link = await findRelayUserLink(tenantId, body.relay_user_linked_id);
      if (!link) throw notFound('relay_user_linked_id');
    } else {
      // No display name: the link's is the one the tenant gave at pairing or provisioning.
      link = await upsertRelayUserLink(tenantId, body.backend_user_id!, 'passkey');
    }
    const linkId = link._id.toString();
    // 2. Their passkeys, excluded so the browser refuses an authenticator that already holds one.
    const existing = await passkeysOfUser(tenantId, linkId, { activeOnly: true });
    if (existing.length >= MAX_PASSKEYS_PER_USER) {
      throw new ApiError('CONFLICT', `This user already has ${MAX_PASSKEYS_PER_USER} passkeys; revoke one first.`);
    }
    const ttl = deps.config.webauthnChallengeTtlSeconds;
    const options = await (
      await simplewebauthn()
    ).generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpId,
      userName: body.username,
      userID: userHandleOf(linkId),
      userDisplayName: body.display_name ?? body.username,
      timeout: ttl * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports ?? [] })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: rp.userVerification },
    });
    // 3. The challenge, bound to this tenant (its key), this user, this ceremony and this origin.
    const stored = await saveChallenge(
      deps.redis,
      deps.config.queuePrefix,
      tenant._id,
      options.challenge,
      { ceremony: 'register', link: linkId, backendUserId: link.backend_user_id, origin: body.browser_origin },
      ttl,
    );
    return {
      message: 'Registration options created. Pass data.options to PublicKeyCredential.parseCreationOptionsFromJSON().',
      data: {
        options: options as unknown as Record<string, unknown>,
        relay_user_linked_id: linkId,
        backend_user_id: link.backend_user_id,
        expires_at: new Date(stored.exp).toISOString(),
      },
    };
  },
});

export const registerVerify = defineRoute({
  method: 'post',
  path: '/relay/webauthn/register/verify',
  summary: 'Passkey registration, step 2: verify and store the new passkey',
  description:
    "`response` is the browser's `credential.toJSON()`, unchanged. On success the passkey is stored, the user's paired devices get a `new_passkey` security alert and the tenant a signed `passkey.registered` callback.",
  docs: 'api.md#passkey-registration',
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z
    .object({
      browser_origin: browserOrigin,
      response: registrationResponse,
      relay_user_linked_id: relayUserLinkedId.optional().describe('When given, must be the user the options were issued for.'),
      name: passkeyName
        .optional()
        .describe('A label for the user\'s list, e.g. "MacBook Touch ID". Defaults to "Passkey <date>"; rename later.'),
    })
    .strict(),
  response: publicPasskey.extend({
    backend_user_id: z.string(),
    alerted_device_count: z.number().int().describe('Paired devices of the user that got the new_passkey security alert.'),
  }),
  successStatus: 201,
  errors: {
    401: 'INVALID_TOKEN: the response does not verify (bad attestation, user verification missing while required); `error.details` says why',
    403: 'ORIGIN_NOT_ALLOWED: browser_origin not allowed, not the one the options were issued for, or not the one the browser signed; FORBIDDEN: signed for another RP id',
    409: 'this credential is already registered with this tenant',
    410: 'GONE: an unknown or used challenge (or one issued for another user or a sign-in); EXPIRED: an expired one',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const tenantId = principal.tenant.id;
    const rp = callerRelyingParty(tenant, body.browser_origin);
    // 1. The challenge (consumed), bound to ceremony, user and origin.
    const chal = await takeCeremonyChallenge(deps, tenant._id, {
      ceremony: 'register',
      clientDataJSON: body.response.response.clientDataJSON,
      browserOrigin: body.browser_origin,
      linkId: body.relay_user_linked_id,
    });
    const linkId = chal.link;
    const backendUser = chal.backendUserId;
    if (!linkId || !backendUser) throw new ApiError('GONE', 'This challenge is unknown or was already used; call register/options again.');
    // 2. The cryptography: simplewebauthn.
    let verified;
    try {
      verified = await (
        await simplewebauthn()
      ).verifyRegistrationResponse({
        response: body.response as unknown as RegistrationResponseJSON,
        expectedChallenge: chal.challenge,
        expectedOrigin: chal.origin,
        expectedRPID: rp.rpId,
        requireUserVerification: rp.userVerification === 'required',
      });
    } catch (err) {
      throw verificationRefused(err, 'registration');
    }
    if (!verified.verified) throw new ApiError('INVALID_TOKEN', 'The passkey registration did not verify.');
    const info = verified.registrationInfo;
    // 3. Store it; a credential id this tenant already knows is refused.
    let passkey;
    try {
      passkey = await insertPasskey(tenantId, {
        relay_user_linked_id: linkId,
        backend_user_id: backendUser,
        credential_id: info.credential.id,
        public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
        sign_count: info.credential.counter,
        transports: info.credential.transports ?? body.response.response.transports ?? [],
        aaguid: info.aaguid,
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp,
        user_verified_at_registration: info.userVerified,
        rp_id: rp.rpId,
        origin: info.origin,
        name: body.name ?? `Passkey ${new Date().toISOString().slice(0, 10)}`,
      });
    } catch (err) {
      if (err instanceof DuplicateCredentialError) throw new ApiError('CONFLICT', 'This passkey is already registered with this tenant.');
      throw err;
    }
    // 4. Tell the tenant (durable callback) and the user (their paired devices, best effort).
    await emitPasskeyEvent(deps, tenant, 'passkey.registered', passkey);
    const shop = tenantDisplayName(tenant);
    const alerted = await alertUserDevices(deps, principal.tenant, linkId, {
      alert_type: 'new_passkey',
      title: 'New passkey added',
      body: `A passkey ("${passkey.name}") was added to your ${shop} account. If this was not you, contact ${shop}.`,
      credential_id: passkey.credential_id,
    });
    return {
      status: 201,
      message: 'Passkey registered.',
      data: { ...toPublicPasskey(passkey), backend_user_id: passkey.backend_user_id, alerted_device_count: alerted },
    };
  },
});

export const registerRoutes = [registerOptions, registerVerify];
