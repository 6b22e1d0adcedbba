/**
 * The reference device: a command-line authenticator that speaks the Auth Relay's device protocol
 * (api/auth/device-protocol.ts) exactly as a phone app would. Tests drive it, and it is how
 * a pairing and an approval are demonstrated without a phone.
 *
 *   tsx scripts/device.ts pair <pairing_proof> [--name "My laptop"] [--fcm-token TOKEN]
 *   tsx scripts/device.ts poll                       # lists open requests, with what to show
 *   tsx scripts/device.ts approve <request_id> [--answer 47]
 *   tsx scripts/device.ts deny <request_id>
 *   tsx scripts/device.ts refresh | unpair | show
 *
 * Options: --relay URL (default $BLOONIO_RELAY_URL or http://localhost:3000), --state FILE (default
 * $BLOONIO_DEVICE_STATE or ./.data/device.json, under the git-ignored .data/). The state file holds the device's P-256 private
 * key and session token, written with mode 0600; the private key never leaves this machine.
 * Output is one JSON document on stdout; exit code 0 on success, 1 on a refusal, 2 on bad usage.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { answerSigningString, deviceRequestHeaders, deviceSign, generateDeviceKey, type P256Jwk } from '../api/auth/device-protocol.js';

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

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--')) {
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
  else {
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
    case 'deny':
      if (!arg) return usage();
      return finish(await device.answer(arg, command, flags.answer ?? null), 200);
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
    'usage: device.ts pair <proof> [--name N] [--fcm-token T] | poll | approve <id> [--answer A] | deny <id> | refresh | push-token [T] | unpair | show   [--relay URL] [--state FILE]\n',
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
