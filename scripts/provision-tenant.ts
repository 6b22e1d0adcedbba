/**
 * Provision a tenant from the shell and print the env lines its backend needs:
 *   npm run provision-tenant -- --name example_backend [--callback-url https://api.example.com] [--rate-limit 120]
 *        [--webauthn-origin https://app.example.com]   (passkeys: that origin, RP id = its host)
 *        [--qr-origin https://app.example.com]         (QR login: the browser origin allowed to show codes)
 * Talks to a running relay through the admin API (RELAY_URL, default http://localhost:3000; the admin
 * key from ADMIN_API_KEY or .data/local.env), so it goes through the same validation as any caller.
 */
import { parseArgs } from 'node:util';
import { localAdminKey } from './local-admin-key.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    'callback-url': { type: 'string' },
    'rate-limit': { type: 'string' },
    'relay-url': { type: 'string' },
    'webauthn-origin': { type: 'string' },
    'qr-origin': { type: 'string' },
  },
});
if (!values.name) {
  console.error(
    'usage: npm run provision-tenant -- --name NAME [--callback-url URL] [--rate-limit N] [--webauthn-origin ORIGIN] [--qr-origin ORIGIN] [--relay-url URL]',
  );
  process.exit(2);
}

function adminKey(): string {
  const key = localAdminKey();
  if (key !== null) return key;
  console.error('set ADMIN_API_KEY (or run `npm start` once, which creates .data/local.env)');
  process.exit(2);
}

const relayUrl = (values['relay-url'] ?? process.env.RELAY_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const body = {
  tenant_name: values.name,
  ...(values['callback-url'] ? { callback_url_base: values['callback-url'] } : {}),
  ...(values['rate-limit'] ? { rate_limit_per_min: Number(values['rate-limit']) } : {}),
  ...(values['webauthn-origin']
    ? { webauthn_origins: [values['webauthn-origin']], webauthn_rp_id: webauthnRpId(values['webauthn-origin']) }
    : {}),
  ...(values['qr-origin'] ? { qr_login_allowed_origins: [values['qr-origin']] } : {}),
};

/** The origin's host as RP id (the admin API then validates both). */
function webauthnRpId(origin: string): string {
  try {
    return new URL(origin).hostname;
  } catch {
    return origin;
  }
}
const res = await fetch(`${relayUrl}/api/v1/provision/tenant`, {
  method: 'POST',
  headers: { 'X-Admin-Key': adminKey(), 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
}).catch((err: unknown) => {
  console.error(`cannot reach the relay at ${relayUrl}: ${String(err)}`);
  process.exit(1);
});
const json = (await res.json()) as { message: string; data?: Record<string, string>; error?: { code: string; details: string[] } };
if (res.status !== 201 || !json.data) {
  console.error(`provisioning failed (${res.status} ${json.error?.code ?? ''}): ${json.message}`);
  for (const d of json.error?.details ?? []) console.error(`  ${d}`);
  process.exit(1);
}
console.error(`# ${json.message}`);
console.log(`BLOONIO_RELAY_BASE_URL=${relayUrl}`);
console.log(`BLOONIO_RELAY_TENANT_ID=${json.data.tenant_id}`);
console.log(`BLOONIO_RELAY_TENANT_SECRET=${json.data.tenant_secret}`);
console.log(`BLOONIO_CHAT_WIDGET_PUBLIC_KEY=${json.data.widget_public_key}`);
