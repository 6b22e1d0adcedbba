/**
 * Passkey test helpers: a real headless Chromium page on a `localhost` origin (a secure context, so
 * WebAuthn runs) with the Chrome DevTools Protocol's virtual authenticator (CTAP2, internal
 * transport, resident keys, user verification). Nothing of the ceremony is stubbed: the browser
 * builds the client data, the virtual authenticator signs, the relay verifies.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';

/** The page's global, as seen from the test (no DOM types in this project). */
type DemoWindow = { webauthnJSON: { create(o: unknown): Promise<any>; get(o: unknown): Promise<any> } };
declare const window: DemoWindow;

/** The relay's address as a page must use it: `localhost` (not 127.0.0.1, which is no valid RP id). */
export const localOrigin = (baseUrl: string, host = 'localhost'): string => `http://${host}:${new URL(baseUrl).port}`;

export async function passkeyTenant(baseUrl: string, origins: string[], settings: Record<string, unknown> = {}): Promise<TenantCreds> {
  return provision(baseUrl, { rate_limit_per_min: 10_000, webauthn_rp_id: 'localhost', webauthn_origins: origins, ...settings });
}

export async function updateTenant(baseUrl: string, creds: TenantCreds, settings: Record<string, unknown>): Promise<void> {
  const r = await admin(baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, settings);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

export type VirtualCredential = {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
};

/** `userVerification: false`: an authenticator without PIN or biometrics (user presence only). */
export type AuthenticatorOptions = { userVerification?: boolean };

/** One browser context + page + virtual authenticator: one "device" of a user. */
export class BrowserAuthenticator {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly cdp: CDPSession,
    readonly authenticatorId: string,
  ) {}

  /** Opens `url` (the relay's demo page on a localhost origin) and plugs in a virtual authenticator. */
  static async open(browser: Browser, url: string, o: AuthenticatorOptions = {}): Promise<BrowserAuthenticator> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: o.userVerification ?? true,
        isUserVerified: o.userVerification ?? true,
        automaticPresenceSimulation: true,
      },
    });
    return new BrowserAuthenticator(context, page, cdp, authenticatorId);
  }

  /** navigator.credentials.create with the relay's options JSON; the browser's credential.toJSON(). */
  create(options: unknown): Promise<any> {
    return this.page.evaluate((o) => window.webauthnJSON.create(o), options);
  }

  get(options: unknown): Promise<any> {
    return this.page.evaluate((o) => window.webauthnJSON.get(o), options);
  }

  /** What the browser throws (its DOMException name), or null when the ceremony succeeded. */
  async createError(options: unknown): Promise<string | null> {
    return this.page.evaluate(
      (o) =>
        window.webauthnJSON.create(o).then(
          () => null,
          (e: Error) => e.name,
        ),
      options,
    );
  }

  async credentials(): Promise<VirtualCredential[]> {
    const r = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.authenticatorId });
    return r.credentials as VirtualCredential[];
  }

  /** Puts a credential back with another signature counter (a clone of the authenticator, as far as the RP can tell). */
  async setSignCount(credentialId: string, signCount: number): Promise<void> {
    // CDP spells credential ids in base64 with padding; the relay and the browser's JSON in base64url.
    const c = (await this.credentials()).find((x) => Buffer.from(x.credentialId, 'base64').toString('base64url') === credentialId);
    assert.ok(c, 'credential on the virtual authenticator');
    await this.cdp.send('WebAuthn.removeCredential', { authenticatorId: this.authenticatorId, credentialId: c.credentialId });
    await this.cdp.send('WebAuthn.addCredential', { authenticatorId: this.authenticatorId, credential: { ...c, signCount } });
  }

  close(): Promise<void> {
    return this.context.close();
  }
}

/** The tenant's backend side of a registration: options → the browser → verify. Returns both answers. */
export async function registerPasskey(
  baseUrl: string,
  creds: TenantCreds,
  auth: BrowserAuthenticator,
  a: { origin: string; backendUserId?: string; linkId?: string; name?: string },
): Promise<{ linkId: string; credentialId: string; verify: any; response: any }> {
  const user = a.linkId
    ? { relay_user_linked_id: a.linkId }
    : { backend_user_id: a.backendUserId ?? `u-${Math.random().toString(36).slice(2, 10)}` };
  const opts = await signed(baseUrl, creds, 'POST', '/relay/webauthn/register/options', {
    ...user,
    username: 'jane@example.com',
    display_name: 'Jane Example',
    browser_origin: a.origin,
  });
  assert.equal(opts.status, 200, JSON.stringify(opts.body));
  const response = await auth.create(opts.body.data.options);
  const verify = await signed(baseUrl, creds, 'POST', '/relay/webauthn/register/verify', {
    browser_origin: a.origin,
    response,
    ...(a.name ? { name: a.name } : {}),
  });
  assert.equal(verify.status, 201, JSON.stringify(verify.body));
  return { linkId: opts.body.data.relay_user_linked_id, credentialId: verify.body.data.credential_id, verify, response };
}

/** authenticate/options (for a user, or usernameless) then the browser's assertion; verify is left to the test. */
export async function assertion(
  baseUrl: string,
  creds: TenantCreds,
  auth: BrowserAuthenticator,
  a: { origin: string; linkId?: string },
): Promise<any> {
  const opts = await signed(baseUrl, creds, 'POST', '/relay/webauthn/authenticate/options', {
    browser_origin: a.origin,
    ...(a.linkId ? { relay_user_linked_id: a.linkId } : {}),
  });
  assert.equal(opts.status, 200, JSON.stringify(opts.body));
  return auth.get(opts.body.data.options);
}

export const verifyAssertion = (
  baseUrl: string,
  creds: TenantCreds,
  origin: string,
  response: unknown,
  extra: Record<string, unknown> = {},
) => signed(baseUrl, creds, 'POST', '/relay/webauthn/authenticate/verify', { browser_origin: origin, response, ...extra });
