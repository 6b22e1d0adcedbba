/**
 * A tenant backend in a shell: makes one HMAC #1-signed call to the relay, exactly as the seed's
 * recipe does, and prints the JSON answer. For demos and debugging a receiver; real backends use
 * an SDK.
 *
 *   tsx scripts/relay-call.ts POST /relay/prepare-pairing '{"user_socket_hash":"…", …}'
 *   tsx scripts/relay-call.ts GET '/relay/fetch/delivery-status?instruction_id=ins-1'
 *   tsx scripts/relay-call.ts GET '/relay/qr-login/poll?session_id=…' -H 'X-QR-Poll-Token: …'
 *
 * Reads BLOONIO_RELAY_BASE_URL (default http://localhost:3000), BLOONIO_RELAY_TENANT_ID and
 * BLOONIO_RELAY_TENANT_SECRET, as printed by `npm run provision-tenant`.
 */
import { signedHeaders } from '../platform/signing.js';

// -H 'Name: value' (repeatable) adds a header; the rest is METHOD PATH [BODY].
const rest: string[] = [];
const extra: Record<string, string> = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '-H' && argv[i + 1]) {
    const h = argv[++i]!;
    const at = h.indexOf(':');
    if (at > 0) extra[h.slice(0, at).trim()] = h.slice(at + 1).trim();
  } else rest.push(a);
}
const [method, path, body = ''] = rest;
const tenantId = process.env.BLOONIO_RELAY_TENANT_ID;
const secret = process.env.BLOONIO_RELAY_TENANT_SECRET;
if (!method || !path || !tenantId || !secret) {
  console.error('usage: BLOONIO_RELAY_TENANT_ID=… BLOONIO_RELAY_TENANT_SECRET=… tsx scripts/relay-call.ts METHOD /relay/… [JSON body]');
  process.exit(2);
}
const base = (process.env.BLOONIO_RELAY_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const res = await fetch(`${base}/api/v1${path}`, {
  method,
  // The exact bytes sent are the bytes signed; a GET signs the empty string.
  headers: { ...signedHeaders(tenantId, secret, body), ...(body ? { 'Content-Type': 'application/json' } : {}), ...extra },
  ...(body ? { body } : {}),
});
console.log(JSON.stringify(await res.json(), null, 2));
process.exit(res.ok ? 0 : 1);
