/**
 * A local fake of FCM HTTP v1 and of Google's OAuth token endpoint, speaking real HTTPS on a
 * real socket, so tests drive the real firebase-admin client (and google-auth-library under it).
 *
 * How traffic gets here without touching DNS or disabling TLS checks:
 *   firebase-admin builds `https://fcm.googleapis.com/...` and google-auth-library builds
 *   `https://oauth2.googleapis.com/token`; both hand the request to the `httpAgent` we give them.
 *   `FakeGoogleAgent` (an https.Agent) opens the TCP connection to 127.0.0.1:<port> instead, but
 *   keeps `servername` = the Google host name, so TLS still verifies the server certificate
 *   against that name. The certificate is self-signed, made at start-up with the `openssl` CLI
 *   (node:crypto can make keys but cannot issue X.509 certificates), and trusted only through
 *   this agent's `ca` option — nothing is disabled process-wide.
 *
 * The token endpoint checks the JWT-bearer assertion for real: RS256 signature verified with the
 * test service account's public key, plus iss/aud/scope/exp claims.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const FCM_HOST = 'fcm.googleapis.com';
export const OAUTH_HOST = 'oauth2.googleapis.com';
/** google-auth-library's JWT flow never calls accounts.google.com; it is routed anyway so an
 *  unexpected call shows up in `unexpected` instead of leaking to the real internet. */
export const ROUTED_HOSTS = [FCM_HOST, OAUTH_HOST, 'accounts.google.com'] as const;
const TOKEN_AUDIENCE = `https://${OAUTH_HOST}/token`;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FCM_SCOPES = ['https://www.googleapis.com/auth/firebase.messaging', 'https://www.googleapis.com/auth/cloud-platform'];

// ---------------------------------------------------------------------------------------------
// Throwaway service account
// ---------------------------------------------------------------------------------------------

export interface TestServiceAccount {
  /** The JSON string, as the relay would read it from the environment. */
  json: string;
  projectId: string;
  clientEmail: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

/** A fresh RSA-2048 service account in Google's JSON key-file format. Never valid anywhere real. */
export function createTestServiceAccount(projectId = 'bloonio-test'): TestServiceAccount {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const clientEmail = `relay-fcm@${projectId}.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKeyPem,
    client_email: clientEmail,
    client_id: String(100000000000000000000n + BigInt(randomBytes(4).readUInt32BE())),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: TOKEN_AUDIENCE,
  });
  return { json, projectId, clientEmail, privateKeyPem, publicKey: createPublicKey(privateKey) };
}

// ---------------------------------------------------------------------------------------------
// Scripted outcomes
// ---------------------------------------------------------------------------------------------

/** FCM v1 ErrorCode enum (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
export type FcmErrorCode =
  | 'UNSPECIFIED_ERROR'
  | 'INVALID_ARGUMENT'
  | 'UNREGISTERED'
  | 'SENDER_ID_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'THIRD_PARTY_AUTH_ERROR';

export type FcmOutcome = { ok: true } | { ok: false; status: number; body: unknown; retryAfter?: string };

/** HTTP status, google.rpc status and message FCM uses for each documented error code. */
const FCM_ERRORS: Record<FcmErrorCode, { status: number; rpc: string; message: string }> = {
  UNSPECIFIED_ERROR: { status: 500, rpc: 'UNKNOWN', message: 'Unknown error.' },
  INVALID_ARGUMENT: {
    status: 400,
    rpc: 'INVALID_ARGUMENT',
    message: 'The registration token is not a valid FCM registration token',
  },
  UNREGISTERED: { status: 404, rpc: 'NOT_FOUND', message: 'Requested entity was not found.' },
  SENDER_ID_MISMATCH: { status: 403, rpc: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: { status: 429, rpc: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for quota metric.' },
  UNAVAILABLE: { status: 503, rpc: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { status: 500, rpc: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: { status: 401, rpc: 'UNAUTHENTICATED', message: 'Auth error from APNS or Web Push Service' },
};

/** An error reply in FCM v1's format: google.rpc.Status with an FcmError detail. */
export function fcmError(code: FcmErrorCode, opts: { retryAfter?: string | number; message?: string; field?: string } = {}): FcmOutcome {
  const spec = FCM_ERRORS[code];
  const message = opts.message ?? spec.message;
  const details: unknown[] = [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: code }];
  if (code === 'INVALID_ARGUMENT') {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: opts.field ?? 'message.token', description: message }],
    });
  }
  const outcome: FcmOutcome = {
    ok: false,
    status: spec.status,
    body: { error: { code: spec.status, message, status: spec.rpc, details } },
  };
  if (opts.retryAfter !== undefined) outcome.retryAfter = String(opts.retryAfter);
  return outcome;
}

export type TokenFailure = { ok: false; status: number; body: unknown };
export type TokenOutcome = { ok: true } | TokenFailure;

/** What Google answers when the assertion is signed by a revoked/unknown key. */
export const INVALID_GRANT: TokenFailure = {
  ok: false,
  status: 400,
  body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
};

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

export interface ReceivedMessage {
  token: string;
  data: Record<string, string> | undefined;
  notification: unknown;
  android: unknown;
  apns: unknown;
  /** The whole `message` object as posted. */
  message: Record<string, unknown>;
  validateOnly: boolean;
  project: string;
  /** The bearer token the client presented (test-issued, not a secret). */
  accessToken: string;
  /** TLS SNI and Host header: proof the client believed it was talking to fcm.googleapis.com. */
  servername: string | undefined;
  hostHeader: string | undefined;
  /** process.hrtime.bigint() when the request body was complete. */
  receivedAt: bigint;
  /** The HTTP status this fake answered with. */
  answeredStatus: number;
}

export interface TokenRequest {
  receivedAt: bigint;
  servername: string | undefined;
  /** Null when the assertion failed verification. */
  claims: Record<string, unknown> | null;
  answeredStatus: number;
}

// ---------------------------------------------------------------------------------------------
// The routing agent
// ---------------------------------------------------------------------------------------------

/**
 * An https.Agent that connects every Google host to the fake, keeping SNI and certificate
 * verification for the original host name. Any other host is refused (the request errors).
 */
export class FakeGoogleAgent extends https.Agent {
  /** Host names this agent has opened TLS connections for, in order. */
  readonly connectedHosts: string[] = [];

  constructor(
    private readonly port: number,
    ca: string,
  ) {
    super({ keepAlive: true, ca });
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = options.servername ?? options.hostname ?? options.host ?? '';
    if (!(ROUTED_HOSTS as readonly string[]).includes(host)) {
      // Reported through the callback so the caller's request fails normally instead of throwing.
      callback?.(new Error(`FakeGoogleAgent: refusing to connect to unexpected host "${host}"`), undefined as never);
      return undefined;
    }
    this.connectedHosts.push(host);
    return super.createConnection({ ...options, host: '127.0.0.1', port: this.port, servername: host }, callback);
  }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

let certPromise: Promise<{ key: string; cert: string }> | undefined;

/** One self-signed certificate per test process, valid for the routed Google host names. */
function selfSignedCert(): Promise<{ key: string; cert: string }> {
  certPromise ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-fcm-'));
    try {
      const keyPath = join(dir, 'key.pem');
      const certPath = join(dir, 'cert.pem');
      const san = ROUTED_HOSTS.map((h) => `DNS:${h}`).join(',');
      await execFileAsync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=Bloonio fake Google APIs',
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ]).catch((err: unknown) => {
        throw new Error(`fake FCM needs the openssl CLI to make its TLS certificate: ${String(err)}`);
      });
      return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return certPromise;
}

export class FakeFcmServer {
  /** Every FCM send request, in arrival order (including ones answered with an error). */
  readonly received: ReceivedMessage[] = [];
  /** Every POST /token, in arrival order. */
  readonly tokenRequests: TokenRequest[] = [];
  /** Requests this fake does not implement (method + host + path). Should stay empty. */
  readonly unexpected: string[] = [];

  private server: https.Server | undefined;
  private agent: FakeGoogleAgent | undefined;
  private readonly scripts = new Map<string, FcmOutcome[]>();
  private tokenScript: TokenOutcome[] = [];
  private readonly issuedAccessTokens = new Set<string>();
  private messageSeq = 0;

  constructor(private readonly account: TestServiceAccount) {}

  async start(): Promise<{ port: number; agent: FakeGoogleAgent }> {
    const { key, cert } = await selfSignedCert();
    const server = https.createServer({ key, cert }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: String(err), status: 'INTERNAL' } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.agent = new FakeGoogleAgent(port, cert);
    return { port, agent: this.agent };
  }

  async stop(): Promise<void> {
    this.agent?.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Outcomes for the next sends to `token`, consumed in order; afterwards sends succeed. */
  script(token: string, outcomes: FcmOutcome[]): void {
    this.scripts.set(token, [...outcomes]);
  }

  /** Outcomes for the next POST /token requests; afterwards valid assertions get a token. */
  scriptToken(outcomes: TokenOutcome[]): void {
    this.tokenScript = [...outcomes];
  }

  /** Forget records and scripts (issued access tokens stay valid, as they would at Google). */
  reset(): void {
    this.received.length = 0;
    this.tokenRequests.length = 0;
    this.unexpected.length = 0;
    this.scripts.clear();
    this.tokenScript = [];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const receivedAt = process.hrtime.bigint();
    const servername = (req.socket as TLSSocket).servername || undefined;
    const path = req.url ?? '';

    if (req.method === 'POST' && path === '/token') {
      this.handleToken(body, servername, receivedAt, res);
      return;
    }
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (req.method === 'POST' && send?.[1]) {
      this.handleSend(decodeURIComponent(send[1]), req, body, servername, receivedAt, res);
      return;
    }
    this.unexpected.push(`${req.method ?? '?'} ${req.headers.host ?? '?'}${path}`);
    sendJson(res, 404, { error: { code: 404, message: 'Not found (fake FCM)', status: 'NOT_FOUND' } });
  }

  private handleToken(body: string, servername: string | undefined, receivedAt: bigint, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const claims = form.get('grant_type') === JWT_BEARER ? this.verifyAssertion(form.get('assertion') ?? '') : null;
    const scripted = this.tokenScript.shift();
    let status: number;
    if (scripted && !scripted.ok) {
      status = scripted.status;
      sendJson(res, status, scripted.body);
    } else if (!claims) {
      status = INVALID_GRANT.status;
      sendJson(res, status, INVALID_GRANT.body);
    } else {
      status = 200;
      const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
      this.issuedAccessTokens.add(accessToken);
      sendJson(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
    }
    this.tokenRequests.push({ receivedAt, servername, claims, answeredStatus: status });
  }

  /** Checks the JWT-bearer assertion like Google does; returns its claims, or null if invalid. */
  private verifyAssertion(assertion: string): Record<string, unknown> | null {
    const [headerB64, payloadB64, signatureB64, ...rest] = assertion.split('.');
    if (!headerB64 || !payloadB64 || !signatureB64 || rest.length > 0) return null;
    try {
      const header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (header.alg !== 'RS256') return null;
      const signedPart = Buffer.from(`${headerB64}.${payloadB64}`, 'ascii');
      const signature = Buffer.from(signatureB64, 'base64url');
      if (!verify('RSA-SHA256', signedPart, this.account.publicKey, signature)) return null;
      const claims = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      const now = Math.floor(Date.now() / 1000);
      const { iss, aud, scope, iat, exp } = claims;
      if (iss !== this.account.clientEmail || aud !== TOKEN_AUDIENCE) return null;
      if (typeof scope !== 'string' || !scope.split(' ').some((s) => FCM_SCOPES.includes(s))) return null;
      if (typeof iat !== 'number' || typeof exp !== 'number') return null;
      if (iat > now + 60 || exp <= now || exp - iat > 3600) return null;
      return claims;
    } catch {
      return null;
    }
  }

  private handleSend(
    project: string,
    req: IncomingMessage,
    body: string,
    servername: string | undefined,
    receivedAt: bigint,
    res: ServerResponse,
  ): void {
    const accessToken = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!this.issuedAccessTokens.has(accessToken)) {
      sendJson(res, 401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
      });
      return;
    }
    if (project !== this.account.projectId) {
      sendJson(res, 403, {
        error: { code: 403, message: 'Permission denied on project.', status: 'PERMISSION_DENIED' },
      });
      return;
    }
    let parsed: { message?: Record<string, unknown>; validate_only?: boolean };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      sendJson(res, 400, {
        error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' },
      });
      return;
    }
    const message = parsed.message ?? {};
    const token = typeof message.token === 'string' ? message.token : '';

    const outcome = this.scripts.get(token)?.shift() ?? { ok: true };
    const record: ReceivedMessage = {
      token,
      data: message.data as Record<string, string> | undefined,
      notification: message.notification,
      android: message.android,
      apns: message.apns,
      message,
      validateOnly: parsed.validate_only === true,
      project,
      accessToken,
      servername,
      hostHeader: req.headers.host,
      receivedAt,
      answeredStatus: outcome.ok ? 200 : outcome.status,
    };
    this.received.push(record);

    if (outcome.ok) {
      this.messageSeq += 1;
      sendJson(res, 200, { name: `projects/${project}/messages/0:${Date.now()}%fake${this.messageSeq}` });
    } else {
      sendJson(res, outcome.status, outcome.body, outcome.retryAfter ? { 'retry-after': outcome.retryAfter } : {});
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
