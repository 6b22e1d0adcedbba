/**
 * The tenant as a WebAuthn relying party, and the checks every ceremony shares:
 *   - the RP (id, name, origins, user-verification policy) from the tenant's settings, or 403;
 *   - `browser_origin` exact-matched against `webauthn_origins`, and under the RP id, or 403;
 *   - the browser's signed client data: its challenge is looked up (and consumed) in this tenant's
 *     challenge store, bound to the ceremony, the user and the origin the options were issued for;
 *   - simplewebauthn's refusals turned into statuses a front end can act on.
 * simplewebauthn does all the cryptography; here we only read clientDataJSON with its helper.
 */
import type { TenantDoc } from '../../../models/platform/tenant.js';
import { takeChallenge, type Ceremony, type StoredChallenge } from '../../../models/auth/webauthn-challenge.js';
import { ApiError } from '../../errors.js';
import type { AppDeps } from '../../context.js';

export type RelyingParty = {
  rpId: string;
  rpName: string;
  origins: string[];
  userVerification: 'required' | 'preferred';
};

export function relyingParty(tenant: TenantDoc): RelyingParty {
  if (tenant.passkeys_enabled === false)
    throw new ApiError('FORBIDDEN', 'Passkeys are turned off for this tenant (passkeys_enabled is false).');
  if (!tenant.webauthn_rp_id) throw new ApiError('FORBIDDEN', 'Passkeys are not set up for this tenant: set webauthn_rp_id.');
  const origins = tenant.webauthn_origins ?? [];
  if (origins.length === 0) throw new ApiError('FORBIDDEN', 'Passkeys are off for this tenant: webauthn_origins is empty.');
  return {
    rpId: tenant.webauthn_rp_id,
    rpName: tenant.branding_display_name ?? tenant.tenant_name,
    origins,
    userVerification: tenant.webauthn_user_verification === 'preferred' ? 'preferred' : 'required',
  };
}

/** The RP of the calling tenant, with `browser_origin` checked against it. */
export function callerRelyingParty(tenant: TenantDoc, browserOrigin: string): RelyingParty {
  const rp = relyingParty(tenant);
  checkOrigin(rp, browserOrigin);
  return rp;
}

export function checkOrigin(rp: RelyingParty, origin: string): void {
  if (!rp.origins.includes(origin))
    throw new ApiError('ORIGIN_NOT_ALLOWED', `Origin ${origin} is not one of this tenant's webauthn_origins.`);
  // The browser refuses an RP id that is not the origin's host or a parent of it; say so here, clearly.
  const host = new URL(origin).hostname;
  if (host !== rp.rpId && !host.endsWith(`.${rp.rpId}`)) {
    throw new ApiError('ORIGIN_NOT_ALLOWED', `Origin ${origin} is not under the RP id ${rp.rpId}; browsers refuse that combination.`);
  }
}

/**
 * simplewebauthn, loaded at the first passkey ceremony rather than at start: it costs ~0.5 s of CPU
 * to load, which every web process (and every test that starts one) paid whether or not it ever saw a
 * passkey. The module is loaded once; later calls get the same promise.
 */
export const simplewebauthn = () => import('@simplewebauthn/server');

/** The WebAuthn user handle: the link id's 12 bytes. Opaque, per tenant, no personal data (WebAuthn §14.6.1). */
export const userHandleOf = (linkId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(linkId, 'hex'));

/** Reads the browser's client data (unverified yet: simplewebauthn checks it again, with the signature). */
function clientData(clientDataJSON: string): { challenge: string; origin: string; type: string } {
  try {
    // What simplewebauthn's decodeClientDataJSON does (base64url, then JSON), without loading its helpers
    // (~0.4 s of CPU at every start of a process that may never see a passkey).
    const c = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as Record<string, unknown> | null;
    if (typeof c?.challenge === 'string' && typeof c.origin === 'string' && typeof c.type === 'string')
      return { challenge: c.challenge, origin: c.origin, type: c.type };
  } catch {
    // fall through
  }
  throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', [
    'response.response.clientDataJSON: must be the base64url client data the browser returned',
  ]);
}

/**
 * Steps shared by both verifies: the challenge named in the client data is taken (single use) from
 * this tenant's store and must be for this ceremony and user; the origin the options were issued for
 * must be the verify's `browser_origin` and the origin inside the signed client data.
 */
export async function takeCeremonyChallenge(
  deps: AppDeps,
  tenantId: string,
  a: { ceremony: Ceremony; clientDataJSON: string; browserOrigin: string; linkId?: string },
): Promise<StoredChallenge & { challenge: string }> {
  const data = clientData(a.clientDataJSON);
  const stored = await takeChallenge(deps.redis, deps.config.queuePrefix, tenantId, data.challenge);
  const again = a.ceremony === 'register' ? 'call register/options again' : 'call authenticate/options again';
  if (!stored || stored.ceremony !== a.ceremony) {
    throw new ApiError('GONE', `This challenge is unknown or was already used; ${again}.`);
  }
  if (stored.exp <= Date.now()) throw new ApiError('EXPIRED', `This challenge has expired; ${again}.`);
  if (a.linkId !== undefined && stored.link !== null && stored.link !== a.linkId) {
    throw new ApiError('GONE', `This challenge was not issued for this user; ${again}.`);
  }
  if (a.browserOrigin !== stored.origin) {
    throw new ApiError('ORIGIN_NOT_ALLOWED', `browser_origin ${a.browserOrigin} is not the origin the options were issued for.`);
  }
  if (data.origin !== stored.origin) {
    throw new ApiError('ORIGIN_NOT_ALLOWED', `The browser signed this response for origin ${data.origin}, not ${stored.origin}.`);
  }
  return { ...stored, challenge: data.challenge };
}

/** simplewebauthn throws plain Errors; the RP id check has a named one. Nothing secret is in their messages. */
export function verificationRefused(err: unknown, what: 'registration' | 'sign-in'): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Error;
  if (e?.name === 'UnexpectedRPIDHash') {
    return new ApiError('FORBIDDEN', `The authenticator signed this ${what} for another RP id than this tenant's webauthn_rp_id.`);
  }
  return new ApiError('INVALID_TOKEN', `The passkey ${what} did not verify.`, [String(e?.message ?? e).slice(0, 300)]);
}
