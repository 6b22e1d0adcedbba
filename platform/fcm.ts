/**
 * FCM push client of the Auth Relay: sends one message to one registration token through
 * firebase-admin (FCM HTTP v1) and classifies the outcome the way FCM documents it.
 *
 * Which firebase-admin 13.10 call paths use `httpAgent` (read in node_modules/firebase-admin/lib):
 *  - GO THROUGH the agent: `messaging().send()`: messaging/messaging.js `send` ->
 *    messaging/messaging-api-request-internal.js `invokeRequestHandler` -> utils/api-request.js
 *    `AuthorizedHttpClient.send` (copies `app.options.httpAgent` onto the request) -> `AsyncHttpCall`
 *    -> `https.request({agent})`, HTTP/1.1. Same client for `sendEach()` after the deprecated
 *    `enableLegacyHttpTransport()`, and for topic (un)subscribe.
 *  - DO NOT: default `sendEach()`/`sendEachForMulticast()`: messaging.js makes an `Http2SessionHandler`
 *    and utils/api-request.js calls `http2.connect('https://fcm.googleapis.com')` with no agent
 *    (`AuthorizedHttp2Client` never reads `httpAgent`). Hence `send()` per token, run concurrently.
 *  - NOT EITHER, despite the signature: the token fetch of `cert(serviceAccountObject, agent)`.
 *    app/credential-internal.js `populateGoogleAuth` builds `GoogleAuth({clientOptions: {transporterOptions:
 *    {agent}}})` but then calls `auth.fromJSON(keyFile)` without those options, so google-auth-library's
 *    JWT client gets a default transport (verified against the fake; firebase-admin-node issue #2960).
 *    Only the key-file *path* form honours the agent, and the relay's key comes from the environment.
 *    `cert()` also memoizes credentials per service-account JSON, ignoring the agent of later calls
 *    (app/credential-factory.js). So this file plugs its own `Credential` (firebase-admin's public
 *    interface) that does the JWT-bearer grant itself through the agent; firebase-admin still caches
 *    the token and refreshes it 5 minutes before expiry (app/firebase-app.js).
 *
 * Who retries what (so callers do not stack a second immediate retry on top):
 *  - firebase-admin (utils/api-request.js `defaultRetryConfig`) retries FCM 503 and ECONNRESET/ETIMEDOUT
 *    up to 4 times, after 0s, 1s, 2s, 4s, or after Retry-After when the server sent one of at most 60s
 *    (a longer Retry-After is not waited for: the 503 surfaces at once). It does NOT retry 429 or 500.
 *    So `UNAVAILABLE` here means five attempts already failed; `send()` can take a while doing so.
 *  - The token fetch below is not retried; firebase-admin tries again on the next `send()`.
 *  - Everything else is the caller's job: `transient` results carry `retryAfterMs` when FCM sent
 *    Retry-After. FCM asks for >= 1 minute initial backoff on QUOTA_EXCEEDED even without one.
 *
 * firebase-admin drops HTTP status and headers from its errors, so Retry-After is read with
 * node:diagnostics_channel (`http.client.request.start`, a documented Node API), correlated to the
 * `send()` that caused the request through an AsyncLocalStorage context. Nothing here logs, and no
 * key, assertion or access token is ever put in a result or an error message.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import type http from 'node:http';
import https from 'node:https';
import { deleteApp, initializeApp, type Credential, type GoogleOAuthAccessToken } from 'firebase-admin/app';
import { getMessaging, type AndroidConfig, type ApnsConfig, type TokenMessage } from 'firebase-admin/messaging';
import { z } from 'zod';

const FCM_HOST = 'fcm.googleapis.com';
/** Fixed, like google-auth-library's: a key file's `token_uri` is not trusted to redirect the key. */
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const TOKEN_TIMEOUT_MS = 10_000;

export interface FcmMessage {
  /** FCM data payload: string values only (FCM rejects anything else). */
  data: Record<string, string>;
  notification?: { title: string; body: string };
  android?: AndroidConfig;
  apns?: ApnsConfig;
  /** Lifetime on both platforms (Android `ttl`, APNs `apns-expiration`); explicit android/apns win. */
  ttlSeconds?: number;
  /** Newer message replaces older one with the same key (Android `collapse_key`, `apns-collapse-id`). */
  collapseKey?: string;
}

export type FcmFailureKind = 'invalid_token' | 'transient' | 'permanent';

export type FcmResult = { ok: true; messageId: string } | { ok: false; kind: FcmFailureKind; code: string; retryAfterMs?: number };

export interface FcmSender {
  /** Resolves for every FCM-level outcome; rejects only on programming errors (bad message shape, closed). */
  send(token: string, message: FcmMessage): Promise<FcmResult>;
  /** Deletes the firebase app. The caller's agent is left alone (the caller owns it). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Service account
// ---------------------------------------------------------------------------------------------

const ServiceAccountSchema = z.object({
  project_id: z.string().min(1),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
});

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: string;
  privateKeyId: string | undefined;
}

/**
 * Parses a Google service-account key file. Errors name the offending fields only: a JSON.parse
 * or zod message could quote the input, and the input holds the private key.
 */
export function parseServiceAccount(json: string): ServiceAccount {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('FCM service account: not valid JSON');
  }
  const parsed = ServiceAccountSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new Error(`FCM service account: missing or invalid field(s): ${fields}`);
  }
  // Keys pasted into env vars often arrive with literal "\n" instead of newlines.
  const privateKey = parsed.data.private_key.includes('\n') ? parsed.data.private_key : parsed.data.private_key.replaceAll('\\n', '\n');
  try {
    createPrivateKey(privateKey);
  } catch {
    throw new Error('FCM service account: private_key is not a readable PEM private key');
  }
  return {
    projectId: parsed.data.project_id,
    clientEmail: parsed.data.client_email,
    privateKey,
    privateKeyId: parsed.data.private_key_id,
  };
}

// ---------------------------------------------------------------------------------------------
// OAuth token (JWT-bearer grant, RFC 7523), plugged into firebase-admin as its Credential
// ---------------------------------------------------------------------------------------------

/** Thrown to firebase-admin, which wraps its message; carries the status for classify(). */
class TokenFetchError extends Error {
  constructor(readonly status: number | undefined) {
    super(status === undefined ? 'OAuth token endpoint unreachable' : `OAuth token endpoint answered HTTP ${status}`);
  }
}

const TokenResponseSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

function tokenCredential(sa: ServiceAccount, agent: http.Agent | undefined, onFailure: (e: TokenFetchError) => void): Credential {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    async getAccessToken(): Promise<GoogleOAuthAccessToken> {
      const iat = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', ...(sa.privateKeyId && { kid: sa.privateKeyId }) };
      const claims = { iss: sa.clientEmail, scope: FCM_SCOPE, aud: TOKEN_URL, iat, exp: iat + 3600 };
      const unsigned = `${b64(header)}.${b64(claims)}`;
      const assertion = `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), sa.privateKey).toString('base64url')}`;
      const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
      try {
        const { status, body } = await postForm(TOKEN_URL, form.toString(), agent);
        const token = status === 200 ? TokenResponseSchema.safeParse(safeJson(body)) : undefined;
        if (!token?.success) throw new TokenFetchError(status);
        return { access_token: token.data.access_token, expires_in: token.data.expires_in };
      } catch (err) {
        // Never rethrow the raw error: transport errors can carry the request (and so the assertion).
        const failure = err instanceof TokenFetchError ? err : new TokenFetchError(undefined);
        onFailure(failure);
        throw failure;
      }
    },
  };
}

function postForm(url: string, body: string, agent: http.Agent | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ...(agent && { agent }),
        timeout: TOKEN_TIMEOUT_MS,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

/** firebase-admin's client code -> FCM v1 ErrorCode and what the caller must do about it. */
const BY_ADMIN_CODE: Record<string, { code: string; kind: FcmFailureKind }> = {
  'messaging/registration-token-not-registered': { code: 'UNREGISTERED', kind: 'invalid_token' },
  'messaging/invalid-registration-token': { code: 'INVALID_ARGUMENT', kind: 'invalid_token' },
  // INVALID_ARGUMENT is about the token or about the payload; refined in classify().
  'messaging/invalid-argument': { code: 'INVALID_ARGUMENT', kind: 'permanent' },
  'messaging/message-rate-exceeded': { code: 'QUOTA_EXCEEDED', kind: 'transient' },
  'messaging/server-unavailable': { code: 'UNAVAILABLE', kind: 'transient' },
  'messaging/internal-error': { code: 'INTERNAL', kind: 'transient' },
  // SENDER_ID_MISMATCH (token belongs to another sender) and PERMISSION_DENIED both land here.
  'messaging/mismatched-credential': { code: 'SENDER_ID_MISMATCH', kind: 'permanent' },
  // THIRD_PARTY_AUTH_ERROR (APNs/web push credentials) and UNAUTHENTICATED both land here.
  'messaging/third-party-auth-error': { code: 'THIRD_PARTY_AUTH_ERROR', kind: 'permanent' },
  'messaging/authentication-error': { code: 'UNAUTHENTICATED', kind: 'permanent' },
  'app/network-error': { code: 'NETWORK_ERROR', kind: 'transient' },
  'app/network-timeout': { code: 'NETWORK_TIMEOUT', kind: 'transient' },
};

/** What the diagnostics observer saw of the HTTP exchanges made on behalf of one send(). */
interface Exchange {
  fcmStatus?: number;
  retryAfter?: string;
}

function classify(err: unknown, exchange: Exchange, tokenFailure: TokenFetchError | undefined): FcmResult {
  const adminCode = (err as { code?: unknown } | null)?.code;
  if (typeof adminCode !== 'string') throw err; // not a firebase-admin error: a bug, let it surface

  if (adminCode === 'app/invalid-credential') {
    // The OAuth token fetch failed. A 4xx answer (invalid_grant: key deleted/revoked, clock skew)
    // needs an operator, retrying the push will not help; no answer or 5xx/429 may clear up.
    const s = tokenFailure?.status;
    const rejected = s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429;
    return rejected
      ? { ok: false, kind: 'permanent', code: 'OAUTH_TOKEN_REJECTED' }
      : { ok: false, kind: 'transient', code: 'OAUTH_TOKEN_UNAVAILABLE' };
  }

  let mapped = BY_ADMIN_CODE[adminCode];
  if (!mapped && adminCode.startsWith('messaging/')) {
    // Unknown/unspecified FCM error: fall back on the HTTP status.
    const s = exchange.fcmStatus;
    const retryable = s === undefined || s === 429 || s >= 500;
    mapped = { code: s === undefined ? 'UNSPECIFIED_ERROR' : `HTTP_${s}`, kind: retryable ? 'transient' : 'permanent' };
  }
  if (!mapped) throw err; // e.g. app/app-deleted: misuse, not an FCM outcome

  let kind = mapped.kind;
  // FCM answers INVALID_ARGUMENT both for a malformed token and for a bad payload; the token may
  // only be pruned in the first case, which FCM's message names ("...not a valid FCM registration
  // token"). firebase-admin keeps that message but drops the BadRequest field violations.
  if (
    mapped.code === 'INVALID_ARGUMENT' &&
    kind === 'permanent' &&
    err instanceof Error &&
    /registration token|message\.token/i.test(err.message)
  ) {
    kind = 'invalid_token';
  }
  const retryAfterMs = parseRetryAfter(exchange.retryAfter);
  return retryAfterMs === undefined ? { ok: false, kind, code: mapped.code } : { ok: false, kind, code: mapped.code, retryAfterMs };
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

// ---------------------------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------------------------

function toAdminMessage(token: string, m: FcmMessage): TokenMessage {
  const out: TokenMessage = { token, data: m.data };
  if (m.notification) out.notification = m.notification;

  const android: AndroidConfig = {
    ...(m.ttlSeconds !== undefined && { ttl: m.ttlSeconds * 1000 }), // firebase-admin takes ms
    ...(m.collapseKey !== undefined && { collapseKey: m.collapseKey }),
    ...m.android,
  };
  if (Object.keys(android).length > 0) out.android = android;

  const apnsHeaders: Record<string, string> = {
    // apns-expiration is an absolute epoch second; 0 means "deliver now or drop".
    ...(m.ttlSeconds !== undefined && {
      'apns-expiration': String(m.ttlSeconds === 0 ? 0 : Math.floor(Date.now() / 1000) + m.ttlSeconds),
    }),
    ...(m.collapseKey !== undefined && { 'apns-collapse-id': m.collapseKey }),
    ...m.apns?.headers,
  };
  if (m.apns || Object.keys(apnsHeaders).length > 0) out.apns = { ...m.apns, headers: apnsHeaders };
  return out;
}

export function createFcmSender(opts: { serviceAccountJson: string; httpAgent?: https.Agent | http.Agent; appName?: string }): FcmSender {
  const sa = parseServiceAccount(opts.serviceAccountJson);
  // One token fetch may serve several concurrent sends (firebase-admin shares the pending refresh),
  // so its failure is remembered per sender, not per send.
  let lastTokenFailure: TokenFetchError | undefined;
  const credential = tokenCredential(sa, opts.httpAgent, (e) => (lastTokenFailure = e));
  const app = initializeApp(
    { credential, projectId: sa.projectId, ...(opts.httpAgent && { httpAgent: opts.httpAgent }) },
    opts.appName ?? `fcm-${randomUUID()}`, // unique by default: several senders may share a process
  );
  const messaging = getMessaging(app);

  const exchanges = new AsyncLocalStorage<Exchange>();
  const onRequestStart = (msg: unknown): void => {
    const exchange = exchanges.getStore();
    const request = (msg as { request: http.ClientRequest }).request;
    if (!exchange || request.host !== FCM_HOST) return; // not one of this sender's FCM calls
    // firebase-admin may retry (503): the last response is the one its error describes.
    request.once('response', (res: http.IncomingMessage) => {
      exchange.fcmStatus = res.statusCode;
      const ra = res.headers['retry-after'];
      exchange.retryAfter = Array.isArray(ra) ? ra[0] : ra;
    });
  };
  dc.subscribe('http.client.request.start', onRequestStart);

  let closed = false;
  return {
    async send(token, message) {
      if (closed) throw new Error('FcmSender is closed');
      const exchange: Exchange = {};
      // messaging.send() validates the message synchronously: a bad shape throws here, by design.
      const pending = exchanges.run(exchange, () => messaging.send(toAdminMessage(token, message)));
      try {
        return { ok: true, messageId: await pending };
      } catch (err) {
        return classify(err, exchange, lastTokenFailure);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      dc.unsubscribe('http.client.request.start', onRequestStart);
      await deleteApp(app);
    },
  };
}
