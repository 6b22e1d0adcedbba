/**
 * A user's passkeys, managed by the tenant's backend: list, rename, revoke (soft delete). These work
 * whatever the tenant's RP settings, so a tenant that turned passkeys off can still list and revoke.
 */
import { z } from 'zod';
import { passkeysOfUser, renamePasskey, revokePasskey, toPublicPasskey } from '../../../models/auth/passkey.js';
import { findRelayUserLink } from '../../../models/platform/relay-user-link.js';
import { notFound } from '../../errors.js';
import { defineRoute } from '../../route.js';
import { emitPasskeyEvent } from './notify.js';
import { PASSKEY_CALLBACK_PATH, WEBAUTHN_TAGS, credentialId, passkeyName, publicPasskey, relayUserLinkedId } from './schemas.js';

export const fetchPasskeys = defineRoute({
  method: 'post',
  path: '/relay/webauthn/fetch/passkeys',
  summary: "List a user's passkeys, active and revoked",
  description:
    "Oldest first. Never shows public keys or counters. 404 for a relay_user_linked_id this tenant does not have (another tenant's included); a user without passkeys gets an empty list.",
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z.object({ relay_user_linked_id: relayUserLinkedId }).strict(),
  response: z.object({ relay_user_linked_id: z.string(), backend_user_id: z.string(), passkeys: z.array(publicPasskey) }),
  errors: [404],
  handler: async (_ctx, { body, principal }) => {
    const tenantId = principal.tenant.id;
    const link = await findRelayUserLink(tenantId, body.relay_user_linked_id);
    if (!link) throw notFound('relay_user_linked_id');
    const passkeys = await passkeysOfUser(tenantId, body.relay_user_linked_id);
    return {
      message: `${passkeys.filter((p) => p.status === 'active').length} active passkey(s).`,
      data: {
        relay_user_linked_id: body.relay_user_linked_id,
        backend_user_id: link.backend_user_id,
        passkeys: passkeys.map(toPublicPasskey),
      },
    };
  },
});

export const renamePasskeyRoute = defineRoute({
  method: 'post',
  path: '/relay/webauthn/rename/passkey',
  summary: "Rename one of a user's passkeys",
  description: "The label in the user's list. 404 when the credential is not one of this user's passkeys in this tenant.",
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z.object({ relay_user_linked_id: relayUserLinkedId, credential_id: credentialId, name: passkeyName }).strict(),
  response: publicPasskey,
  errors: [404],
  handler: async (_ctx, { body, principal }) => {
    const tenantId = principal.tenant.id;
    const renamed = await renamePasskey(tenantId, body.relay_user_linked_id, body.credential_id, body.name);
    if (!renamed) throw notFound('Passkey');
    return { message: 'Passkey renamed.', data: toPublicPasskey(renamed) };
  },
});

export const revokePasskeyRoute = defineRoute({
  method: 'post',
  path: '/relay/webauthn/revoke/passkey',
  summary: "Revoke one of a user's passkeys (soft delete)",
  description: `The passkey never signs in again (authenticate/verify answers 403) and stays in the list as revoked; the tenant gets a signed \`passkey.revoked\` callback at {callback_url_base}${PASSKEY_CALLBACK_PATH}. The credential stays on the user's authenticator: tell the user they may delete it there (browsers offer PublicKeyCredential.signalUnknownCredential for this). Idempotent: revoking a revoked passkey answers 200. 404 when the credential is not one of this user's passkeys in this tenant.`,
  tags: WEBAUTHN_TAGS,
  security: 'hmac',
  body: z.object({ relay_user_linked_id: relayUserLinkedId, credential_id: credentialId }).strict(),
  response: publicPasskey,
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const r = await revokePasskey(principal.tenant.id, body.relay_user_linked_id, body.credential_id);
    if (!r) throw notFound('Passkey');
    if (r.changed) await emitPasskeyEvent(deps, tenant, 'passkey.revoked', r.passkey);
    return { message: r.changed ? 'Passkey revoked.' : 'Passkey was already revoked.', data: toPublicPasskey(r.passkey) };
  },
});

export const passkeyRoutes = [fetchPasskeys, renamePasskeyRoute, revokePasskeyRoute];
