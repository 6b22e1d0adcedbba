/**
 * Passkey sign-in (docs/contract.md §2.5):
 *   POST /relay/webauthn/authenticate/options → `data.options` for navigator.credentials.get, for a
 *        known user (allow list) or usernameless (empty allow list: discoverable credentials,
 *        conditional UI / autofill);
 *   POST /relay/webauthn/authenticate/verify  → the browser's `credential.toJSON()`; answers who signed in.
 */
import type { AuthenticationResponseJSON, VerifiedAuthenticationResponse } from '@simplewebauthn/server';
import { z } from 'zod';
import { findPasskey, passkeysOfUser, recordCounterRegression, recordPasskeyUse, type PasskeyDoc } from '../../../models/auth/passkey.js';
import { saveChallenge } from '../../../models/auth/webauthn-challenge.js';
import { findRelayUserLink, findRelayUserLinkByBackendUser } from '../../../models/platform/relay-user-link.js';
import { ApiError, notFound } from '../../errors.js';
import type { AppDeps } from '../../context.js';
import { defineRoute } from '../../route.js';
import { alertUserDevices, emitPasskeyEvent, tenantDisplayName } from './notify.js';
import { callerRelyingParty, simplewebauthn, takeCeremonyChallenge, userHandleOf, verificationRefused } from './relying-party.js';
import { WEBAUTHN_TAGS, authenticationResponse, backendUserId, browserOrigin, relayUserLinkedId, requestOptionsJson } from './schemas.js';
import { fieldRules } from '../../schemas.js';
import type { TenantEntry } from '../../../models/platform/tenant-store.js';

export const authenticateOptions = defineRoute({
  method: 'post',
  path: '/relay/webauthn/authenticate/options',
  summary: 'Passkey sign-in, step 1: the options for navigator.credentials.get',
  description:
    'With a user, `allowCredentials` lists their active passkeys; without one, usernameless (the browser offers the discoverable passkeys it holds for the RP id). Answers `data.options`, the JSON `PublicKeyCredential.parseRequestOptionsFromJSON()` takes. The challenge is single use and expires after WEBAUTHN_CHALLENGE_TTL_SECONDS.',
  docs: 'api.md#passkey-sign-in',
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z
    .object({
      browser_origin: browserOrigin,
      relay_user_linked_id: relayUserLinkedId.optional(),
      backend_user_id: backendUserId.optional(),
    })
    .strict()
    .refine((b) => b.relay_user_linked_id === undefined || b.backend_user_id === undefined, {
      message: 'give at most one of relay_user_linked_id / backend_user_id',
      path: ['relay_user_linked_id'],
    })
    .meta(fieldRules.atMostOne('relay_user_linked_id', 'backend_user_id')),
  response: z.object({
    options: requestOptionsJson,
    relay_user_linked_id: z.string().nullable().describe('The user the options are for; null for usernameless.'),
    expires_at: z.string(),
  }),
  errors: {
    403: 'passkeys are off for this tenant (FORBIDDEN), or browser_origin is not allowed (ORIGIN_NOT_ALLOWED)',
    404: 'a user this tenant does not have',
    409: 'the named user has no active passkey',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const tenantId = principal.tenant.id;
    const rp = callerRelyingParty(tenant, body.browser_origin);
    let linkId: string | null = null;
    let allow: PasskeyDoc[] = [];
    if (body.relay_user_linked_id || body.backend_user_id) {
      const link = body.relay_user_linked_id
        ? await findRelayUserLink(tenantId, body.relay_user_linked_id)
        : await findRelayUserLinkByBackendUser(tenantId, body.backend_user_id!);
      if (!link) throw notFound('User');
      linkId = link._id.toString();
      allow = await passkeysOfUser(tenantId, linkId, { activeOnly: true });
      if (allow.length === 0) throw new ApiError('CONFLICT', 'This user has no active passkey; register one first.');
    }
    const ttl = deps.config.webauthnChallengeTtlSeconds;
    const options = await (
      await simplewebauthn()
    ).generateAuthenticationOptions({
      rpID: rp.rpId,
      allowCredentials: allow.map((p) => ({ id: p.credential_id, transports: p.transports ?? [] })),
      timeout: ttl * 1000,
      userVerification: rp.userVerification,
    });
    const stored = await saveChallenge(
      deps.redis,
      deps.config.queuePrefix,
      tenant._id,
      options.challenge,
      { ceremony: 'authenticate', link: linkId, backendUserId: null, origin: body.browser_origin },
      ttl,
    );
    return {
      message: 'Sign-in options created. Pass data.options to PublicKeyCredential.parseRequestOptionsFromJSON().',
      data: {
        options: options as unknown as Record<string, unknown>,
        relay_user_linked_id: linkId,
        expires_at: new Date(stored.exp).toISOString(),
      },
    };
  },
});

/** A signed assertion whose counter did not move forward: refused, recorded, reported to the tenant and the user. */
async function reportCounterRegression(
  deps: AppDeps,
  entry: TenantEntry,
  p: PasskeyDoc,
  stored: number,
  presented: number,
): Promise<never> {
  const tenant = entry.tenant;
  await recordCounterRegression(entry.id, p.credential_id);
  await emitPasskeyEvent(deps, tenant, 'passkey.counter_regression', p, { stored_counter: stored, presented_counter: presented });
  const shop = tenantDisplayName(tenant);
  await alertUserDevices(deps, entry, p.relay_user_linked_id, {
    alert_type: 'passkey_counter_regression',
    title: 'Passkey sign-in blocked',
    body: `A sign-in to ${shop} with your passkey "${p.name}" was blocked: the passkey may have been copied. If this keeps happening, remove that passkey and contact ${shop}.`,
    credential_id: p.credential_id,
  });
  throw new ApiError(
    'CONFLICT',
    'Sign-in refused: the signature counter of this passkey went backwards, which can mean a cloned authenticator. The tenant and the user were told.',
  );
}

export const authenticateVerify = defineRoute({
  method: 'post',
  path: '/relay/webauthn/authenticate/verify',
  summary: 'Passkey sign-in, step 2: verify the assertion; answers who signed in',
  description:
    "`response` is the browser's `credential.toJSON()`, unchanged. Answers who signed in (`backend_user_id`, `relay_user_linked_id`), the `credential_id` and the authenticator's flags; nothing secret.",
  docs: 'api.md#passkey-sign-in',
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z
    .object({
      browser_origin: browserOrigin,
      response: authenticationResponse,
      relay_user_linked_id: relayUserLinkedId.optional().describe("When given, the passkey must be this user's."),
    })
    .strict(),
  response: z.object({
    backend_user_id: z.string(),
    relay_user_linked_id: z.string(),
    credential_id: z.string(),
    name: z.string(),
    user_verified: z.boolean(),
    backed_up: z.boolean(),
    device_type: z.enum(['singleDevice', 'multiDevice']),
    authenticated_at: z.string(),
  }),
  errors: {
    401: "INVALID_TOKEN: the assertion does not verify (`error.details` says why) or its user handle is not the passkey's user",
    403: 'FORBIDDEN: a revoked passkey or an assertion signed for another RP id; ORIGIN_NOT_ALLOWED as for register/verify',
    404: 'a credential this tenant does not have, or a passkey of someone else than the user named',
    409: 'the signature counter went backwards (a possible cloned authenticator): refused, reported by a signed passkey.counter_regression callback and a security alert; the passkey stays active',
    410: 'GONE / EXPIRED: an unknown, used or expired challenge',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const tenantId = principal.tenant.id;
    const rp = callerRelyingParty(tenant, body.browser_origin);
    // 1. The challenge (consumed whatever follows), bound to ceremony, user and origin.
    const chal = await takeCeremonyChallenge(deps, tenant._id, {
      ceremony: 'authenticate',
      clientDataJSON: body.response.response.clientDataJSON,
      browserOrigin: body.browser_origin,
      linkId: body.relay_user_linked_id,
    });
    // 2. The passkey: this tenant's (by _id), this user's when a user is named, still active.
    const passkey = await findPasskey(tenantId, body.response.id);
    const expectedUser = chal.link ?? body.relay_user_linked_id ?? null;
    if (!passkey || (expectedUser !== null && passkey.relay_user_linked_id !== expectedUser)) throw notFound('Passkey');
    if (passkey.status !== 'active') throw new ApiError('FORBIDDEN', 'This passkey has been revoked.');
    // The user handle names the account the authenticator signed in; for a usernameless sign-in it is
    // how the user is identified, so it must be there and be the passkey's owner (WebAuthn §7.2 step 6).
    const handle = body.response.response.userHandle;
    const ownerHandle = Buffer.from(userHandleOf(passkey.relay_user_linked_id)).toString('base64url');
    if ((handle && handle !== ownerHandle) || (!handle && chal.link === null)) {
      throw new ApiError('INVALID_TOKEN', "The assertion's user handle is not this passkey's user.");
    }
    // 3. The cryptography: simplewebauthn. The stored counter is compared below, after the signature
    //    is proven, so that a forged assertion cannot raise a counter-regression alarm; passing 0 here
    //    turns off the library's own comparison (it only compares when either counter is non-zero).
    let verified: VerifiedAuthenticationResponse;
    try {
      verified = await (
        await simplewebauthn()
      ).verifyAuthenticationResponse({
        response: body.response as unknown as AuthenticationResponseJSON,
        expectedChallenge: chal.challenge,
        expectedOrigin: chal.origin,
        expectedRPID: rp.rpId,
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
          counter: 0,
          transports: passkey.transports ?? [],
        },
        requireUserVerification: rp.userVerification === 'required',
      });
    } catch (err) {
      throw verificationRefused(err, 'sign-in');
    }
    if (!verified.verified) throw new ApiError('INVALID_TOKEN', 'The passkey sign-in did not verify.');
    const info = verified.authenticationInfo;
    // 4. The counter (WebAuthn §6.1.1) and the use, one conditional update under a per-passkey lock:
    //    authenticators that count must move forward (0 and 0 means "does not count"), so two
    //    sign-ins presenting one counter cannot both pass; a revoke that landed meanwhile wins.
    const recorded = await recordPasskeyUse(deps, tenantId, passkey.credential_id, {
      signCount: info.newCounter,
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
    });
    if (recorded.verdict === 'regressed')
      await reportCounterRegression(deps, principal.tenant, passkey, recorded.storedCount, info.newCounter);
    if (recorded.verdict !== 'ok') throw new ApiError('FORBIDDEN', 'This passkey has been revoked.');
    return {
      message: 'Signed in with a passkey.',
      data: {
        backend_user_id: passkey.backend_user_id,
        relay_user_linked_id: passkey.relay_user_linked_id,
        credential_id: passkey.credential_id,
        name: passkey.name,
        user_verified: info.userVerified,
        backed_up: info.credentialBackedUp,
        device_type: info.credentialDeviceType,
        authenticated_at: new Date().toISOString(),
      },
    };
  },
});

export const authenticateRoutes = [authenticateOptions, authenticateVerify];
