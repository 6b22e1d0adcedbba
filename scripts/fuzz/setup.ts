/**
 * The fuzzer's credentials (scripts/fuzz.sh), minted through the relay's own API like any client:
 *   - tenant T, whose secret signs every HMAC #1 request, with a paired device (P-256 key, session
 *     token), an operator token, a visitor token, a conversation and a challenge;
 *   - tenant S, a sacrificial tenant whose id the admin routes get (rotate, suspend… never break T).
 * Writes them as JSON to the file named by the second argument:
 *   tsx scripts/fuzz/setup.ts http://127.0.0.1:PORT creds.json   (ADMIN_API_KEY in the environment)
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DeviceClient } from '../device.js';
import { signedHeaders } from '../../platform/signing.js';

const [base, out] = process.argv.slice(2);
const adminKey = process.env.ADMIN_API_KEY?.split(',')[0]?.trim();
if (!base || !out || !adminKey) {
  console.error('usage: ADMIN_API_KEY=… tsx scripts/fuzz/setup.ts RELAY_URL OUT.json');
  process.exit(2);
}
const ORIGIN = 'https://fuzz.example.com';

async function json(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { body: raw } : {}),
  });
  const b = (await r.json()) as { data: any; message: string };
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(b)}`);
  return b.data;
}
const asAdmin = (path: string, body?: unknown) => json(body === undefined ? 'GET' : 'POST', path, { 'X-Admin-Key': adminKey }, body);

const tenant = { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN], callback_url_base: 'http://127.0.0.1:9' };
const t = await asAdmin('/provision/tenant', { tenant_name: 'fuzz-main', ...tenant });
const s = await asAdmin('/provision/tenant', { tenant_name: 'fuzz-sacrificial', ...tenant });
const creds = { tenantId: t.tenant_id as string, secret: t.tenant_secret as string };
const signed = (method: string, path: string, body?: unknown) => {
  const raw = body === undefined ? '' : JSON.stringify(body);
  return json(method, path, signedHeaders(creds.tenantId, creds.secret, raw), body);
};

const userHash = `fuzz_${randomBytes(6).toString('hex')}`;
const pairing = await signed('POST', '/relay/prepare-pairing', {
  user_socket_hash: userHash,
  backend_user_id: 'fuzz-user',
  user_email: 'fuzz@example.com',
  display_name: 'Fuzz',
});
const device = DeviceClient.create(base);
const paired = await device.pair(pairing.pairing_proof, { deviceName: 'fuzz device' });
if (paired.status !== 201) throw new Error(`pair: ${paired.status} ${JSON.stringify(paired.body)}`);
const challenge = await signed('POST', '/relay/send/auth-challenge', {
  user_socket_hash: userHash,
  instruction_id: 'fuzz-instruction',
  custom_type: 'localAuth',
  expected_action: 'login',
  ttl_seconds: 600,
});
const operator = await signed('POST', '/relay/provision/operator', { email: 'fuzz-operator@example.com', display_name: 'Fuzz operator' });
const opToken = await signed('POST', '/relay/mint/operator-token', { operator_id: operator.operator_id, ttl_seconds: 7200 });
// The one operator deprovision/operator may disable (the token above must keep working).
const sacrificialOperator = await signed('POST', '/relay/provision/operator', {
  email: 'fuzz-sacrificial@example.com',
  display_name: 'Fuzz sacrificial',
});
const visitor = await json(
  'POST',
  '/create/visitor-session',
  { Origin: ORIGIN },
  {
    tenant_id: creds.tenantId,
    widget_public_key: t.widget_public_key,
    origin: ORIGIN,
    mode: 'human',
  },
);
const conversation = await signed('POST', '/relay/create/conversation', { session_id: visitor.session_id });

writeFileSync(
  out,
  JSON.stringify(
    {
      base_url: base,
      admin_key: adminKey,
      master_key: process.env.SECRETS_MASTER_KEY ?? '',
      tenant_id: creds.tenantId,
      tenant_secret: creds.secret,
      widget_public_key: t.widget_public_key,
      sacrificial_tenant_id: s.tenant_id,
      sacrificial_tenant_secret: s.tenant_secret,
      origin: ORIGIN,
      user_socket_hash: userHash,
      device_private_key_pem: device.state.privateKeyPem,
      device_session_token: device.state.sessionToken,
      device_id: device.state.deviceId,
      request_id: challenge.request_id,
      instruction_id: 'fuzz-instruction',
      operator_id: operator.operator_id,
      operator_token: opToken.operator_token,
      sacrificial_operator_id: sacrificialOperator.operator_id,
      visitor_token: visitor.visitor_token,
      session_id: visitor.session_id,
      conversation_id: conversation.conversation.id ?? conversation.conversation.conversation_id,
    },
    null,
    2,
  ),
  { mode: 0o600 },
);
console.error(
  `fuzz setup: tenant ${creds.tenantId} with a device, an operator, a visitor and a conversation; sacrificial tenant ${s.tenant_id}`,
);
