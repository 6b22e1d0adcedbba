/**
 * "No secret, token or signature in the logs" (docs/contract.md §1.5), checked over a whole test run. A mocha
 * root hook plugin (.mocharc.json `require`):
 *   - every relay a test starts logs at info level into one file per run (in-process relays through
 *     `auditLogger`, child processes through the harness, which appends their whole output);
 *   - every secret the tests see is recorded: the admin and master keys, and whatever crosses `fetch`
 *     (request headers X-Admin-Key, X-Bloonio-Signature, X-Device-Signature, Authorization; response
 *     fields named like *secret, *token, *proof, *signature), plus the signatures of the callbacks the
 *     fake receiver gets;
 *   - after the last test, the log is searched for each of them: any hit fails the run, naming the
 *     kind of secret and the log line's message (never the secret itself).
 * The figures are printed: secrets checked, log lines, processes.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createLogger, type Logger } from '../../platform/logger.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AUDIT_FILE = process.env.TEST_AUDIT_LOG ?? `${ROOT}.data/test-logs/run-${process.pid}.log`;
/** Level of every audited relay: info logs every request line, so whatever a request carried could show up. */
export const AUDIT_LEVEL = process.env.TEST_LOG_LEVEL && process.env.TEST_LOG_LEVEL !== 'silent' ? process.env.TEST_LOG_LEVEL : 'info';

const secrets = new Map<string, string>(); // value → kind
let children = 0;

/** Remember one secret the tests created or received. Short values are ignored (they would match by chance). */
export function recordSecret(value: unknown, kind: string): void {
  if (typeof value !== 'string' || value.length < 16) return;
  secrets.set(value, kind);
  // A bearer or signature may also be logged in a shorter, truncated form: its first 24 characters count too.
}

const SECRET_FIELD = /(secret|token|proof|signature|password|api_key|ticket)$/i;
const PUBLIC_FIELDS = new Set(['widget_public_key', 'public_key', 'fcm_token', 'push_token']);

function recordFields(value: unknown, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string' && SECRET_FIELD.test(k) && !PUBLIC_FIELDS.has(k)) recordSecret(v, k);
    else recordFields(v, depth + 1);
  }
}

function recordHeaders(headers: unknown): void {
  const h = new Headers(headers as ConstructorParameters<typeof Headers>[0]);
  recordSecret(h.get('x-admin-key'), 'admin key');
  recordSecret(h.get('x-bloonio-signature'), 'HMAC #1 signature');
  recordSecret(h.get('x-device-signature'), 'device signature');
  const auth = h.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)/i.exec(auth)?.[1];
  recordSecret(bearer, 'bearer token');
  const basic = /^Basic\s+(\S+)/i.exec(auth)?.[1];
  if (basic) recordSecret(Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':'), 'admin key (Basic)');
}

/** Appends a child process's output to the audited log. */
export function auditChildOutput(chunk: Buffer | string): void {
  appendFileSync(AUDIT_FILE, chunk);
}
export function countChild(): void {
  children++;
}

/** A logger for an in-process relay that writes to the audited log (and optionally to a test's own stream). */
export function auditLogger(name: string, extra?: NodeJS.WritableStream): Logger {
  const file = pino.destination({ dest: AUDIT_FILE, append: true, sync: true });
  const dest = extra ? pino.multistream([{ stream: file }, { stream: extra as never }]) : file;
  return createLogger(extra ? 'info' : AUDIT_LEVEL, name, dest as never);
}

/** Every hit of a recorded secret in `text`: [kind, the log line's msg]. Tokens are split as a log would keep them. */
export function findSecrets(text: string, values: Map<string, string>): [string, string][] {
  const tokens = new Set<string>();
  const prefixes = new Set<string>();
  // '=' splits too (query strings, key=value): base64 padding is dropped from the secrets instead.
  for (const t of text.split(/[^A-Za-z0-9_.~+/-]+/)) {
    if (t.length < 12) continue;
    tokens.add(t);
    tokens.add(t.replace(/\.+$/, '')); // a sentence's full stop
    prefixes.add(t.slice(0, 24));
  }
  const hits: [string, string][] = [];
  for (const [raw, kind] of values) {
    const value = raw.replace(/=+$/, '');
    const found = tokens.has(value) || (value.length >= 24 && prefixes.has(value.slice(0, 24)));
    if (!found) continue;
    const line = text.split('\n').find((l) => l.includes(value.slice(0, 24))) ?? '';
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 80).replace(value, '…');
    hits.push([kind, msg]);
  }
  return hits;
}

// --- the plugin ------------------------------------------------------------------------------

mkdirSync(dirname(AUDIT_FILE), { recursive: true });
if (!existsSync(AUDIT_FILE)) writeFileSync(AUDIT_FILE, '');
process.env.TEST_AUDIT_LOG = AUDIT_FILE;

const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  recordHeaders(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  const res = await realFetch(input, init);
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    res
      .clone()
      .json()
      .then(recordFields, () => undefined);
  }
  return res;
};

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await new Promise((r) => setTimeout(r, 200)); // let the last response bodies be read
    const text = existsSync(AUDIT_FILE) ? readFileSync(AUDIT_FILE, 'utf8') : '';
    const lines = text.split('\n').filter(Boolean).length;
    const hits = findSecrets(text, secrets);
    const kinds = [...new Set(secrets.values())].sort().join(', ');
    console.log(
      `\n  secrets audit: ${secrets.size} secrets (${kinds}) searched in ${lines} log lines (${(text.length / 1e6).toFixed(1)} MB) of in-process relays and ${children} child processes: ${hits.length} found`,
    );
    if (hits.length > 0) {
      throw new Error(
        `secrets found in the logs (kept in ${AUDIT_FILE}): ${hits
          .slice(0, 10)
          .map(([k, m]) => `${k} in a "${m}" line`)
          .join('; ')}`,
      );
    }
    if (!process.env.TEST_KEEP_LOGS) rmSync(AUDIT_FILE, { force: true });
  },
};
