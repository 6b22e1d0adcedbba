/**
 * `npm run receiver`: a small callback receiver for trying the relay locally, verifying every
 * callback exactly as a tenant's backend must (docs/contract.md §1.2, §1.4) and printing each verified event:
 *   - the three HMAC #1 headers, the timestamp within ±30 s, the signature over the raw body bytes
 *     with the tenant secret (platform/signing.ts, constant time) → 401 otherwise;
 *   - de-duplication on X-Bloonio-Event-Id (retries carry the same id) → 200 "duplicate".
 *
 *   npm run receiver -- [--port 8080] [--secret sk_…] [--env-file .data/demo.env]
 * The secret comes from --secret, BLOONIO_RELAY_TENANT_SECRET, or the env file the README's
 * provisioning step writes (.data/demo.env, re-read on every callback). Listens on 127.0.0.1 only.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HEADER_SIGNATURE, HEADER_TENANT, HEADER_TIMESTAMP, TIMESTAMP_WINDOW_MS, sign, signatureMatches } from '../platform/signing.js';

export type Verdict = { ok: true; eventId: string; eventType: string; duplicate: boolean } | { ok: false; reason: string };

/** Checks one callback as a tenant's backend must; `seen` holds the event ids already accepted. */
export function verifyCallback(
  secret: string,
  headers: http.IncomingHttpHeaders,
  raw: Buffer,
  seen: Set<string>,
  nowMs = Date.now(),
): Verdict {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  };
  const [tenant, ts, sig] = [h(HEADER_TENANT), h(HEADER_TIMESTAMP), h(HEADER_SIGNATURE)];
  if (!tenant || !ts || !sig) return { ok: false, reason: 'missing X-Bloonio-* headers' };
  if (!/^\d{1,16}$/.test(ts) || Math.abs(nowMs - Number(ts)) > TIMESTAMP_WINDOW_MS) return { ok: false, reason: 'timestamp out of window' };
  if (!signatureMatches(sign(secret, ts, raw), sig)) return { ok: false, reason: 'invalid signature (wrong tenant secret?)' };
  const eventId = h('x-bloonio-event-id');
  const duplicate = seen.has(eventId);
  seen.add(eventId);
  return { ok: true, eventId, eventType: h('x-bloonio-event-type'), duplicate };
}

/** The secret, re-read from the env file on every callback (a re-provisioned demo tenant needs no restart). */
function secretFrom(flag: string | undefined, envFile: string): () => string {
  if (flag) return () => flag;
  const fromEnv = process.env.BLOONIO_RELAY_TENANT_SECRET;
  if (fromEnv) return () => fromEnv;
  const read = () => /^BLOONIO_RELAY_TENANT_SECRET=(\S+)$/m.exec(existsSync(envFile) ? readFileSync(envFile, 'utf8') : '')?.[1];
  if (!read()) {
    console.error(`receiver: no tenant secret: give --secret, set BLOONIO_RELAY_TENANT_SECRET, or write ${envFile} (see the README)`);
    process.exit(2);
  }
  return () => read() ?? '';
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, secret: { type: 'string' }, 'env-file': { type: 'string' } } });
  const secret = secretFrom(values.secret, values['env-file'] ?? '.data/demo.env');
  const port = Number(values.port ?? process.env.RECEIVER_PORT ?? 8080);
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const v = verifyCallback(secret(), req.headers, raw, seen);
      const at = new Date().toISOString();
      if (!v.ok) {
        console.log(`${at} ✘ refused ${req.method} ${req.url}: ${v.reason}`);
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: v.reason }));
        return;
      }
      if (v.duplicate) console.log(`${at} ✔ duplicate of ${v.eventId} (a retry): already handled`);
      else {
        let data: unknown = null;
        try {
          data = (JSON.parse(raw.toString('utf8')) as { data?: unknown }).data;
        } catch {
          /* signed but not JSON: print the type only */
        }
        console.log(`${at} ✔ verified ${v.eventType} ${v.eventId} at ${req.url}: ${JSON.stringify(data)}`);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: true, duplicate: v.duplicate }));
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`receiver: verifying callbacks on http://127.0.0.1:${port} (Ctrl-C stops)`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
