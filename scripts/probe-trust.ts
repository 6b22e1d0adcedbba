/**
 * The hostile review's probes, held out of the test suite: run against a live relay (`npm start`) the
 * way the reviewer did, from outside, and print one line per probe (PASS / FAIL with what was seen).
 * The tests prove each fix in isolation; this proves the running product as a user starts it.
 *
 *   npm start                                  # terminal 1
 *   npx tsx scripts/probe-trust.ts             # terminal 2 (RELAY_URL, default http://localhost:3000;
 *                                              #  the admin key from ADMIN_API_KEY or .data/local.env)
 *
 * Exits 1 when any probe fails. It provisions a throw-away tenant of its own and touches nothing else.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { signedHeaders } from '../platform/signing.js';
import { withTimeout } from '../platform/with-timeout.js';
import { localAdminKey } from './local-admin-key.js';

const base = (process.env.RELAY_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const api = `${base}/api/v1`;
const ORIGIN = 'https://probe.example.com';

function adminKey(): string {
  const key = localAdminKey();
  if (!key) throw new Error('set ADMIN_API_KEY (or run `npm start` once, which writes .data/local.env)');
  return key;
}

type Answer = { status: number; body: Record<string, any> };
async function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const raw = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...(raw ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
    ...(raw ? { body: raw } : {}),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, any> };
  } catch {
    return { status: res.status, body: { text } };
  }
}

type Tenant = { id: string; secret: string; widgetKey: string };
function signed(t: Tenant, method: string, path: string, body?: unknown): Promise<Answer> {
  const raw = body === undefined ? '' : JSON.stringify(body);
  return call(method, path, { ...(body === undefined ? {} : { body }), headers: signedHeaders(t.id, t.secret, raw) });
}

const results: { name: string; ok: boolean; detail: string }[] = [];
async function probe(name: string, run: () => Promise<string>): Promise<void> {
  try {
    const detail = await run();
    results.push({ name, ok: true, detail });
    console.log(`PASS ${name}: ${detail}`);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    results.push({ name, ok: false, detail });
    console.log(`FAIL ${name}: ${detail}`);
  }
}
function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

/** One raw upgrade request; resolves with the status line and whether the server closed the socket. */
function rawUpgrade(path: string, deadlineMs: number): Promise<{ status: string; closed: boolean }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 80), u.hostname);
    let data = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ status: data.split('\r\n')[0] ?? '', closed });
    };
    const timer = setTimeout(() => done(false), deadlineMs);
    s.on('data', (d) => (data += String(d)));
    s.on('end', () => done(true));
    s.on('close', () => done(true));
    s.on('error', () => done(true));
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
  });
}

function openSocket(url: string, origin?: string): { ws: WebSocket; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(url, origin ? { origin } : {});
  ws.on('error', () => undefined);
  const opened = new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('close', (code) => j(new Error(`socket closed with ${code} before opening`)));
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return { ws, opened, closed };
}
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  withTimeout(p, ms, () => new Error(`${what} not within ${ms} ms`));

// -------------------------------------------------------------------------------------------------
const admin = { 'X-Admin-Key': adminKey() };
const prov = await call('POST', '/provision/tenant', {
  headers: admin,
  body: { tenant_name: `probe_${Date.now()}`, allowed_origins: [ORIGIN] },
});
if (prov.status !== 201) {
  console.error(`cannot provision a tenant: ${prov.status} ${JSON.stringify(prov.body)}`);
  process.exit(2);
}
const tenant: Tenant = {
  id: prov.body.data.tenant_id as string,
  secret: prov.body.data.tenant_secret as string,
  widgetKey: prov.body.data.widget_public_key as string,
};
const wsBase = base.replace(/^http/, 'ws');

await probe('high 2: stray websocket upgrades are answered and closed', async () => {
  const paths = ['/healthz', '/api/v1/nope', '/'];
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => rawUpgrade(paths[i % paths.length]!, 10_000)));
  const open = answers.filter((a) => !a.closed).length;
  const unanswered = answers.filter((a) => !/^HTTP\/1\.1 4\d\d/.test(a.status)).length;
  expect(open === 0 && unanswered === 0, `${open} of 200 left open, ${unanswered} without a 4xx status line`);
  return `200 of 200 answered (${answers[0]!.status}) and closed by the relay`;
});

await probe('high 3: a deprovisioned operator is cut off everywhere', async () => {
  const email = `op${Date.now()}@probe.example.com`;
  const p = await signed(tenant, 'POST', '/relay/provision/operator', { email, display_name: 'Probe' });
  expect(p.status === 201, `provision: ${p.status}`);
  const m = await signed(tenant, 'POST', '/relay/mint/operator-token', { email });
  expect(m.status === 201, `mint: ${m.status}`);
  const token = m.body.data.operator_token as string;
  const bearer = { Authorization: `Bearer ${token}` };
  expect((await call('GET', '/operator/fetch/queue', { headers: bearer })).status === 200, 'token refused before revocation');
  const sock = openSocket(`${wsBase}/api/v1/ws/operator?token=${encodeURIComponent(token)}`);
  await within(sock.opened, 5000, 'operator socket open');
  const t0 = Date.now();
  const d = await signed(tenant, 'POST', '/relay/deprovision/operator', { email });
  expect(d.status === 200, `deprovision: ${d.status} ${JSON.stringify(d.body)}`);
  const code = await within(sock.closed, 3000, 'socket close after deprovisioning');
  expect(code === 4401, `socket closed with ${code}, not 4401`);
  const closedMs = Date.now() - t0;
  const rest = await call('GET', '/operator/fetch/queue', { headers: bearer });
  expect(rest.status === 401, `REST with the revoked token: ${rest.status}`);
  const again = await signed(tenant, 'POST', '/relay/mint/operator-token', { email });
  expect(again.status === 404 || again.status === 410, `mint after deprovisioning: ${again.status}`);
  return `socket closed 4401 ${closedMs} ms after deprovisioning, REST 401, mint ${again.status}`;
});

await probe('medium: refreshing a visitor token rotates it', async () => {
  const s = await call('POST', '/create/visitor-session', {
    headers: { Origin: ORIGIN },
    body: { tenant_id: tenant.id, widget_public_key: tenant.widgetKey, origin: ORIGIN },
  });
  expect(s.status === 201, `session: ${s.status} ${JSON.stringify(s.body)}`);
  const old = { Authorization: `Bearer ${s.body.data.visitor_token as string}`, Origin: ORIGIN };
  const r1 = await call('POST', '/refresh/visitor-token', { headers: old });
  expect(r1.status === 200, `first refresh: ${r1.status}`);
  const r2 = await call('POST', '/refresh/visitor-token', { headers: old });
  expect(r2.status === 401, `the replaced token refreshed again: ${r2.status}`);
  return 'the replaced token answers 401';
});

await probe('medium: a socket ticket opens one socket, once, and keeps the token out of the URL', async () => {
  const s = await call('POST', '/create/visitor-session', {
    headers: { Origin: ORIGIN },
    body: { tenant_id: tenant.id, widget_public_key: tenant.widgetKey, origin: ORIGIN },
  });
  expect(s.status === 201, `session: ${s.status}`);
  const t = await call('POST', '/create/socket-ticket', {
    headers: { Authorization: `Bearer ${s.body.data.visitor_token as string}`, Origin: ORIGIN },
  });
  expect(t.status === 201 || t.status === 200, `ticket: ${t.status} ${JSON.stringify(t.body)}`);
  const url = `${wsBase}${t.body.data.websocket_path as string}?ticket=${encodeURIComponent(t.body.data.ticket as string)}`;
  const first = openSocket(url, ORIGIN);
  await within(first.opened, 5000, 'the socket opened with the ticket');
  const second = openSocket(url, ORIGIN);
  const code = await within(second.closed, 5000, 'the reused ticket refused');
  expect(code === 4401, `a reused ticket closed with ${code}, not 4401`);
  first.ws.close();
  return `first use opened the socket, the second closed with ${code}`;
});

await probe('medium: random device bearer tokens are refused', async () => {
  const statuses = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const r = await call('GET', '/device/requests', { headers: { Authorization: `Bearer ${randomBytes(32).toString('base64url')}` } });
    statuses.add(r.status);
  }
  expect(statuses.size === 1 && statuses.has(401), `statuses ${[...statuses].join(',')}`);
  return '50 of 50 answered 401';
});

await probe('low: an unknown tenant and a wrong signature answer alike', async () => {
  const body = { note: 'probe' };
  const wrongSig = await call('POST', '/relay/send/test-callback', {
    body,
    headers: signedHeaders(tenant.id, `sk_${randomBytes(24).toString('hex')}`, JSON.stringify(body)),
  });
  const unknown = await call('POST', '/relay/send/test-callback', {
    body,
    headers: signedHeaders(`tnt_${randomBytes(12).toString('hex')}`, tenant.secret, JSON.stringify(body)),
  });
  const strip = (a: Answer) => JSON.stringify({ s: a.status, c: a.body.error?.code, m: a.body.message });
  expect(strip(wrongSig) === strip(unknown), `wrong signature ${strip(wrongSig)} vs unknown tenant ${strip(unknown)}`);
  return `both ${strip(unknown)}`;
});

await probe('low: /metrics needs a credential', async () => {
  const r = await fetch(`${base}/metrics`);
  expect(r.status === 401 || r.status === 403 || r.status === 404, `/metrics answered ${r.status}`);
  return `/metrics without a credential: ${r.status}`;
});

const failed = results.filter((r) => !r.ok).length;
console.log(`probes: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
