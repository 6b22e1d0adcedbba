/**
 * The reference device: a command-line authenticator that speaks the Auth Relay's device protocol
 * (api/auth/device-protocol.ts) exactly as a phone app would. Tests drive it, and it is how
 * a pairing and an approval are demonstrated without a phone.
 *
 *   tsx scripts/device.ts pair <pairing_proof> [--name "My laptop"] [--fcm-token TOKEN]
 *   tsx scripts/device.ts poll                       # lists open requests, with what to show
 *   tsx scripts/device.ts approve <request_id> [--answer 47]   # a push challenge or a sudo request
 *   tsx scripts/device.ts deny <request_id>
 *   tsx scripts/device.ts scan <qr_code_str> [--approve [--number NN] | --deny]  # checks the relay's signature, shows who asks, from which browser
 *   tsx scripts/device.ts refresh | unpair | show
 *
 * A sudo request is answered over the hash of what the device shows (its title, description, fields
 * and data; dynamic data is fetched first with POST /device/open-request): what you see is what you sign.
 *
 * Options: --relay URL (default $BLOONIO_RELAY_URL or http://localhost:3000), --state FILE (default
 * $BLOONIO_DEVICE_STATE or ./.data/device.json, under the git-ignored .data/). The state file holds the device's P-256 private
 * key and session token, written with mode 0600; the private key never leaves this machine.
 * Output is one JSON document on stdout; exit code 0 on success, 1 on a refusal, 2 on bad usage.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPublicKey, verify } from 'node:crypto';
import {
  answerSigningString,
  answerSigningStringV2,
  deviceRequestHeaders,
  deviceSign,
  displayHash,
  generateDeviceKey,
  type P256Jwk,
} from '../api/auth/device-protocol.js';

export type DeviceState = {
  relay: string;
  privateKeyPem: string;
  publicJwk: P256Jwk;
  deviceId?: string;
  sessionToken?: string;
  sessionExpiresAt?: string;
  pairing?: Record<string, unknown>;
};

export type RelayReply<T = any> = {
  status: number;
  body: { success: boolean; status_code: number; message: string; data: T; error?: { code: string; details: string[] } };
};

/** An open request as the relay shows it to a device (GET /device/requests, POST /device/open-request). */
export type OpenRequest = { request_id: string; tenant_id: string; kind: string; content: Record<string, any>; expires_at: string };

export type QrPayload = {
  typ: string;
  sid: string;
  tid: string;
  tenant_name: string;
  origin: string;
  /** A coarse description of the browser that asked ("Chrome on Windows"). */
  browser?: string;
  /** Number matching: the numbers to offer; the person picks the one their browser shows. */
  num_choices?: string[];
  exp: number;
  kid: string;
};

export class DeviceClient {
  constructor(public state: DeviceState) {}

  static create(relay: string): DeviceClient {
    const key = generateDeviceKey();
    return new DeviceClient({ relay: relay.replace(/\/+$/, ''), privateKeyPem: key.privateKeyPem, publicJwk: key.publicJwk });
  }

  static load(file: string): DeviceClient {
    return new DeviceClient(JSON.parse(readFileSync(file, 'utf8')) as DeviceState);
  }

  save(file: string): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(this.state, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }

  /** One signed device request; `bearer` defaults to the session token. Exposed for tests that break one part. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    o: { bearer?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<RelayReply> {
    const raw = o.raw ?? (body === undefined ? '' : JSON.stringify(body));
    const fullPath = `/api/v1${path}`;
    const headers: Record<string, string> = {
      ...deviceRequestHeaders(this.state.privateKeyPem, method, fullPath, raw),
      ...((o.bearer ?? this.state.sessionToken) ? { Authorization: `Bearer ${o.bearer ?? this.state.sessionToken}` } : {}),
      ...(raw ? { 'Content-Type': 'application/json' } : {}),
      ...o.headers,
    };
    const r = await fetch(`${this.state.relay}${fullPath}`, { method, headers, ...(raw ? { body: raw } : {}) });
    return { status: r.status, body: (await r.json()) as RelayReply['body'] };
  }

  async pair(
    proof: string,
    o: { deviceName?: string; platform?: string; fcmToken?: string | null; tenantId?: string } = {},
  ): Promise<RelayReply> {
    const r = await this.request(
      'POST',
      '/device/register-token',
      {
        public_key: this.state.publicJwk,
        platform: o.platform ?? 'cli',
        device_name: o.deviceName ?? 'Reference CLI device',
        fcm_token: o.fcmToken ?? null,
        ...(o.tenantId ? { tenant_id: o.tenantId } : {}),
      },
      { bearer: proof },
    );
    if (r.status === 201) {
      this.state.deviceId = r.body.data.device_id;
      this.state.sessionToken = r.body.data.device_session_token;
      this.state.sessionExpiresAt = r.body.data.expires_at;
      this.state.pairing = r.body.data.pairing;
    }
    return r;
  }

  poll(): Promise<RelayReply> {
    return this.request('GET', '/device/requests');
  }

  /** The answer body, signed by the device key over request id, decision, answer and timestamp. */
  answerBody(requestId: string, decision: 'approve' | 'deny', answer?: string | null, nowMs = Date.now()) {
    const timestamp = nowMs;
    const signature = deviceSign(this.state.privateKeyPem, answerSigningString(requestId, decision, answer ?? null, timestamp));
    return { request_id: requestId, decision, ...(answer != null ? { answer } : {}), timestamp, signature };
  }

  answer(requestId: string, decision: 'approve' | 'deny', answer?: string | null): Promise<RelayReply> {
    return this.request('POST', '/device/answer', this.answerBody(requestId, decision, answer));
  }

  /** A request with its current data (a sudo request with dynamic data is fetched by the relay now). */
  open(requestId: string, tenantId?: string): Promise<RelayReply> {
    return this.request('POST', '/device/open-request', { request_id: requestId, ...(tenantId ? { tenant_id: tenantId } : {}) });
  }

  /**
   * The answer to a sudo request as shown (an entry of the poll or of open()): signed (V2) over the
   * hash this device computes itself of what it shows, never over a hash the relay told it.
   */
  sudoAnswerBody(shown: OpenRequest, decision: 'approve' | 'deny', answer?: string | null, nowMs = Date.now()) {
    const c = shown.content;
    const hash = displayHash({ title: c.title, description: c.description, fields: c.fields, data_items: c.data_items });
    const signature = deviceSign(this.state.privateKeyPem, answerSigningStringV2(shown.request_id, decision, answer ?? null, hash, nowMs));
    const own = shown.tenant_id === (this.state.pairing?.tenant_id as string | undefined);
    return {
      request_id: shown.request_id,
      ...(own ? {} : { tenant_id: shown.tenant_id }),
      decision,
      ...(answer != null ? { answer } : {}),
      display_hash: hash,
      timestamp: nowMs,
      signature,
    };
  }

  /** Answers any open request the way it must be answered: V1 for a push challenge, V2 (opened first when its data is dynamic) for sudo. */
  async answerOpen(shown: OpenRequest, decision: 'approve' | 'deny', answer?: string | null): Promise<RelayReply> {
    if (shown.kind !== 'sudo') return this.answer(shown.request_id, decision, answer);
    let view = shown;
    if (shown.content.data_access_type === 'dynamic') {
      const opened = await this.open(shown.request_id, shown.tenant_id);
      if (opened.status !== 200) return opened;
      view = opened.body.data as OpenRequest;
    }
    return this.request('POST', '/device/answer', this.sudoAnswerBody(view, decision, answer));
  }

  /** Reads a QR-login code and checks the relay's signature on it (its public keys: GET /fetch/relay-keys). */
  async scan(code: string): Promise<{ ok: true; payload: QrPayload } | { ok: false; reason: string }> {
    const m = /^bloonio-qr:v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(code.trim());
    if (!m?.[1] || !m[2]) return { ok: false, reason: 'not a Bloonio QR-login code' };
    let payload: QrPayload;
    try {
      payload = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as QrPayload;
    } catch {
      return { ok: false, reason: 'unreadable QR code' };
    }
    const keys = (await (await fetch(`${this.state.relay}/api/v1/fetch/relay-keys`)).json()) as {
      data: { keys: Record<string, string>[] };
    };
    const jwk = keys.data.keys.find((k) => k.kid === payload.kid);
    if (!jwk) return { ok: false, reason: `no relay key ${payload.kid}` };
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x ?? '' }, format: 'jwk' });
    if (!verify(null, Buffer.from(m[1]), key, Buffer.from(m[2], 'base64url')))
      return { ok: false, reason: 'the relay did not sign this QR code' };
    if (payload.exp * 1000 <= Date.now()) return { ok: false, reason: 'this QR code has expired' };
    return { ok: true, payload };
  }

  /** `number`: with number matching, the one the person picked among the code's num_choices (signed as the answer). */
  answerQr(code: string, sessionId: string, decision: 'approve' | 'deny', nowMs = Date.now(), number?: string): Promise<RelayReply> {
    const signature = deviceSign(this.state.privateKeyPem, answerSigningString(sessionId, decision, number ?? null, nowMs));
    return this.request('POST', '/device/qr-login/answer', {
      qr_code_str: code,
      decision,
      ...(number !== undefined ? { number } : {}),
      timestamp: nowMs,
      signature,
    });
  }

  async refresh(): Promise<RelayReply> {
    const r = await this.request('POST', '/device/refresh-token', {});
    if (r.status === 200) {
      this.state.sessionToken = r.body.data.device_session_token;
      this.state.sessionExpiresAt = r.body.data.expires_at;
    }
    return r;
  }

  updatePushToken(fcmToken: string | null): Promise<RelayReply> {
    return this.request('POST', '/device/update-push-token', { fcm_token: fcmToken });
  }

  unpair(): Promise<RelayReply> {
    return this.request('POST', '/device/unpair', {});
  }
}

// ----- command line -----

const BOOLEAN_FLAGS = new Set(['approve', 'deny', 'json']);

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--') && BOOLEAN_FLAGS.has(a.slice(2))) flags[a.slice(2)] = 'true';
    else if (a.startsWith('--')) {
      flags[a.slice(2)] = argv[i + 1] ?? '';
      i++;
    } else positional.push(a);
  }
  return { positional, flags };
}

/** What a phone would show for one open request. */
function describe(r: Record<string, any>): string {
  const c = r.content ?? {};
  const lines = [`[${r.kind}] ${r.request_id} (expires ${r.expires_at})`];
  if (r.kind === 'security-alert') lines.push(`  ${c.title}: ${c.body}`);
  else if (r.kind === 'sudo') {
    const who = c.requester?.display_name ?? r.tenant_id;
    lines.push(`  ${who} asks you to approve: ${c.title} (${c.event_type}, ${c.action_type} ${c.expected_action})`);
    if (c.description) lines.push(`  ${c.description}`);
    for (const f of [...(c.fields ?? []), ...(c.data_items ?? [])]) lines.push(`  ${f.title}: ${f.value} (${f.data_type})`);
    if (c.data_access_type === 'dynamic') lines.push('  (its data is fetched when you answer)');
    if ((c.threshold ?? 1) > 1) lines.push(`  ${c.threshold} approvals are needed`);
  } else {
    lines.push(`  ${c.display?.title ?? c.expected_action ?? 'Approve?'}${c.display?.subtitle ? ` — ${c.display.subtitle}` : ''}`);
    if (c.description) lines.push(`  ${c.description}`);
    for (const f of c.display?.fields ?? []) lines.push(`  ${f.title}: ${f.value} (${f.data_type})`);
    if (c.custom_type === 'goldenNumber')
      lines.push(`  Pick the number shown on your screen: ${(c.numbers ?? []).join(' / ')}  → approve ${r.request_id} --answer N`);
    if (c.custom_type === 'totp') lines.push(`  Enter your code: approve ${r.request_id} --answer CODE`);
  }
  return lines.join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  const [command, arg] = positional;
  const stateFile = flags.state ?? env.BLOONIO_DEVICE_STATE ?? '.data/device.json';
  const relay = flags.relay ?? env.BLOONIO_RELAY_URL ?? 'http://localhost:3000';
  const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  const finish = (r: RelayReply, ok: number) => {
    out(r.body);
    return r.status === ok ? 0 : 1;
  };

  if (command === 'pair') {
    if (!arg) return usage();
    const device = existsSync(stateFile) ? DeviceClient.load(stateFile) : DeviceClient.create(relay);
    if (device.state.sessionToken) {
      process.stderr.write(`${stateFile} already holds a paired device; unpair it or use another --state file\n`);
      return 2;
    }
    const r = await device.pair(arg, { deviceName: flags.name, fcmToken: flags['fcm-token'] ?? null, platform: flags.platform });
    if (r.status === 201) device.save(stateFile);
    return finish(r, 201);
  }
  if (!existsSync(stateFile)) {
    process.stderr.write(`no device state in ${stateFile}: pair first\n`);
    return 2;
  }
  const device = DeviceClient.load(stateFile);
  switch (command) {
    case 'show':
      out({
        device_id: device.state.deviceId,
        relay: device.state.relay,
        pairing: device.state.pairing,
        session_expires_at: device.state.sessionExpiresAt,
        public_key: device.state.publicJwk,
      });
      return 0;
    case 'poll': {
      const r = await device.poll();
      if (r.status === 200 && !flags.json) for (const req of r.body.data.requests) process.stderr.write(`${describe(req)}\n`);
      return finish(r, 200);
    }
    case 'approve':
    case 'deny': {
      if (!arg) return usage();
      // The request as this device sees it: a sudo request is signed over what it shows.
      const polled = await device.poll();
      const shown = (polled.body.data?.requests as OpenRequest[] | undefined)?.find((q) => q.request_id === arg);
      if (shown?.kind === 'sudo') process.stderr.write(`${describe(shown)}\n`);
      return finish(
        shown ? await device.answerOpen(shown, command, flags.answer ?? null) : await device.answer(arg, command, flags.answer ?? null),
        200,
      );
    }
    case 'scan': {
      if (!arg) return usage();
      const seen = await device.scan(arg);
      if (!seen.ok) {
        process.stderr.write(`refused: ${seen.reason}\n`);
        return 1;
      }
      const p = seen.payload;
      const from = p.browser ? ` from ${p.browser}` : '';
      process.stderr.write(
        `${p.tenant_name} asks you to sign in on ${p.origin}${from} (expires ${new Date(p.exp * 1000).toISOString()})\n`,
      );
      if (p.num_choices)
        process.stderr.write(`  Pick the number your browser shows: ${p.num_choices.join(' / ')}  → scan … --approve --number N\n`);
      if (!flags.approve && !flags.deny) {
        out(p);
        return 0;
      }
      return finish(await device.answerQr(arg, p.sid, flags.approve ? 'approve' : 'deny', Date.now(), flags.number), 200);
    }
    case 'refresh': {
      const r = await device.refresh();
      if (r.status === 200) device.save(stateFile);
      return finish(r, 200);
    }
    case 'push-token':
      return finish(await device.updatePushToken(arg ?? null), 200);
    case 'unpair': {
      const r = await device.unpair();
      if (r.status === 200) {
        delete device.state.sessionToken;
        device.save(stateFile);
      }
      return finish(r, 200);
    }
    default:
      return usage();
  }
}

function usage(): number {
  process.stderr.write(
    'usage: device.ts pair <proof> [--name N] [--fcm-token T] | poll | approve <id> [--answer A] | deny <id> | scan <qr_code_str> [--approve [--number NN] | --deny] | refresh | push-token [T] | unpair | show   [--relay URL] [--state FILE]\n',
  );
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`device: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
