/**
 * Regression tests for what a newcomer and a fuzzer found (issue 9, defects 1–6): each one is
 * asserted as a caller or an operator would see it, over real HTTP against a real relay.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { admin, call, provision, signed, signedHeaders, type TenantCreds } from '../support/client.js';
import { CLIENT_ERROR_BURST, CLIENT_ERROR_LINES_PER_SEC } from '../../api/middleware/request.js';

/** A request with any method token, through node:http (fetch refuses TRACE and friends). */
function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes straight onto a socket, for requests Node's HTTP client would refuse to send. */
function rawSocket(baseUrl: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let out = '';
    socket.on('data', (d) => (out += d.toString('utf8')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, 3000).unref();
  });
}

const envelopeOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, any>;

/** relay_log_lines_skipped_total from a /metrics text (0 before the first line is left out). */
function skippedLines(metrics: string): number {
  const m = /^relay_log_lines_skipped_total (\d+)/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

function assertEnvelope(body: any, status: number, code: string): void {
  assert.equal(body?.success, false, JSON.stringify(body));
  assert.equal(body.status_code, status);
  assert.equal(body.error.code, code);
  assert.ok(body.error.request_id);
}

describe('hardening: what the newcomer and the fuzzer found', function () {
  this.timeout(60_000);
  let relay: Relay;
  const log = new PassThrough();
  let logText = '';
  log.on('data', (d: Buffer) => (logText += d.toString('utf8')));

  before(async () => {
    relay = await startRelay('hardening', {}, { logStream: log });
  });
  after(async () => relay.stop());

  describe('defect 1: no unbounded metric series or log volume from unauthenticated requests', () => {
    it('1,500 requests to unknown paths ending in 400/404/405/413/415/501 add a handful of series and a log within its budget', async () => {
      const before = await (await fetch(`${relay.baseUrl}/metrics`, { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } })).text();
      const linesBefore = logText.split('\n').length;
      const kinds: ((i: number) => Promise<unknown>)[] = [
        (i) => call(relay.baseUrl, 'POST', `/api/v1/nope/${i}`, { headers: { 'content-type': 'application/json' }, body: '{bad' }),
        (i) => call(relay.baseUrl, 'GET', `/nope-${i}`),
        (i) => rawRequest(relay.baseUrl, 'PATCH', `/api/v1/fetch/tenants?x=${i}`),
        (i) => rawRequest(relay.baseUrl, 'TRACE', `/nope/${i}`),
        (i) => call(relay.baseUrl, 'POST', `/x/${i}`, { headers: { 'content-type': 'text/plain' }, body: 'hello' }),
        (i) =>
          rawRequest(
            relay.baseUrl,
            'POST',
            `/big/${i}`,
            { 'content-length': String(relay.config.bodyLimitBytes + 1) },
            Buffer.alloc(0),
          ).catch(() => undefined),
      ];
      const total = 1500;
      const skippedBefore = skippedLines(before);
      const started = Date.now();
      for (let i = 0; i < total; i += 25) {
        await Promise.all(Array.from({ length: 25 }, (_, k) => kinds[(i + k) % kinds.length]!(i + k)));
      }
      const seconds = (Date.now() - started) / 1000;
      const after = await (await fetch(`${relay.baseUrl}/metrics`, { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } })).text();
      const series = (text: string) => text.split('\n').filter((l) => l.startsWith('relay_http_requests_total{'));
      const added = series(after).filter((l) => !series(before).some((b) => b.split('} ')[0] === l.split('} ')[0]));
      assert.ok(added.length <= 12, `at most a dozen new series, got ${added.length}:\n${added.join('\n')}`);
      assert.ok(!/nope|\/x\/|\/big\//.test(after), 'no raw path in any label');
      assert.ok(after.length - before.length < 20_000, `metrics grew ${after.length - before.length} bytes`);
      assert.match(after, /route="unmatched"/);
      // The log: no stack trace, and no more lines than the budget allows for the time the flood took
      // (a burst, then a steady rate), with every line left out counted. The bound follows the clock
      // because the budget does: a slow machine spreads the same flood over more seconds.
      const lines = logText.split('\n').slice(linesBefore).filter(Boolean);
      assert.ok(!lines.some((l) => l.includes('"stack"')), 'no stack traces for client errors');
      const allowed = CLIENT_ERROR_BURST + Math.ceil(seconds * CLIENT_ERROR_LINES_PER_SEC) + 5;
      const skipped = skippedLines(after) - skippedBefore;
      assert.ok(
        lines.length <= allowed && lines.length < total / 2,
        `log lines for ${total} client errors in ${seconds.toFixed(1)} s: ${lines.length} (budget ${allowed})`,
      );
      assert.ok(skipped >= total - lines.length - 5, `lines left out and counted: ${skipped} of ${total - lines.length}`);
      await eventually(
        async () => {
          await call(relay.baseUrl, 'GET', '/nope-after-the-flood');
          return logText.includes('log_lines_skipped');
        },
        5000,
        200,
      );
    });

    it('ops routes are labelled by their template too', async () => {
      await call(relay.baseUrl, 'GET', '/healthz');
      const text = await (await fetch(`${relay.baseUrl}/metrics`, { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } })).text();
      assert.match(text, /relay_http_requests_total\{method="GET",route="\/healthz",status="200"\}/);
    });
  });

  describe('defect 2: unrouted and unknown methods answer 405 with Allow (or 501), in the envelope', () => {
    for (const method of ['TRACE', 'QUERY', 'PATCH', 'PUT', 'DELETE']) {
      it(`${method} /healthz → 405 with Allow`, async () => {
        const r = await rawRequest(relay.baseUrl, method, '/healthz');
        assert.equal(r.status, 405, r.text);
        assert.match(String(r.headers.allow), /GET/);
        assertEnvelope(r.body, 405, 'METHOD_NOT_ALLOWED');
      });
    }
    it('TRACE and QUERY on an API route → 405 with the route’s methods in Allow', async () => {
      for (const method of ['TRACE', 'QUERY']) {
        const r = await rawRequest(relay.baseUrl, method, '/api/v1/provision/tenant');
        assert.equal(r.status, 405, r.text);
        assert.match(String(r.headers.allow), /POST/);
        assertEnvelope(r.body, 405, 'METHOD_NOT_ALLOWED');
      }
    });
    it('GET on a POST-only route → 405 with Allow: POST', async () => {
      const r = await call(relay.baseUrl, 'GET', '/api/v1/relay/send/test-callback');
      assert.equal(r.status, 405);
      assert.match(r.headers.get('allow') ?? '', /POST/);
      assertEnvelope(r.body, 405, 'METHOD_NOT_ALLOWED');
    });
    it('OPTIONS on a known path → 204 with Allow', async () => {
      const r = await rawRequest(relay.baseUrl, 'OPTIONS', '/api/v1/fetch/tenants');
      assert.equal(r.status, 204);
      assert.match(String(r.headers.allow), /GET/);
    });
    it('TRACE on an unknown path → 501 NOT_IMPLEMENTED in the envelope', async () => {
      const r = await rawRequest(relay.baseUrl, 'TRACE', '/nowhere');
      assert.equal(r.status, 501, r.text);
      assertEnvelope(r.body, 501, 'NOT_IMPLEMENTED');
    });
    it('a method token Node’s parser does not know → 501 in the envelope (not a bare status line)', async () => {
      const text = await rawSocket(relay.baseUrl, 'FROBNICATE /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(text, /^HTTP\/1.1 501 /);
      assertEnvelope(envelopeOf(text), 501, 'NOT_IMPLEMENTED');
    });
  });

  describe('defect 3: URL fields', () => {
    const bad = ['', 'AAA', 'not a url zq9marker', 'ftp://example.com', 'http://user:pw@example.com'];
    for (const field of ['callback_url_base', 'bot_webhook_url']) {
      it(`${field}: ${bad.length} malformed values → 422 naming the field, on provision and update; the raw input is not logged`, async () => {
        const creds = await provision(relay.baseUrl);
        for (const value of bad) {
          const p = await admin(relay.baseUrl, 'POST', '/provision/tenant', { tenant_name: 'x', [field]: value });
          assert.equal(p.status, 422, `${JSON.stringify(value)}: ${JSON.stringify(p.body)}`);
          assert.ok(
            p.body.error.details.some((d: string) => d.startsWith(`${field}:`)),
            JSON.stringify(p.body.error.details),
          );
          const u = await admin(relay.baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, { [field]: value });
          assert.equal(u.status, 422, `${JSON.stringify(value)}: ${JSON.stringify(u.body)}`);
        }
        assert.ok(!logText.includes('zq9marker'), 'raw input not in the log');
      });
    }
    it('send/auth-challenge backend_url of "" or free text → 422 naming backend_url', async () => {
      const creds = await provision(relay.baseUrl);
      for (const value of ['', 'free text', 'AAA']) {
        const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', {
          user_socket_hash: '9f86d081884c7d659a2feaa0c55ad015',
          instruction_id: `i-${Math.random()}`,
          custom_type: 'localAuth',
          expected_action: 'login',
          backend_url: value,
        });
        assert.equal(r.status, 422, JSON.stringify(r.body));
        assert.ok(r.body.error.details.some((d: string) => d.startsWith('backend_url:')));
      }
    });
  });

  describe('defect 5: the body the handler sees is exactly the bytes that were signed', () => {
    let creds: TenantCreds;
    before(async () => {
      creds = await provision(relay.baseUrl, { callback_url_base: 'http://127.0.0.1:9' });
    });
    const sendRaw = (raw: Buffer) =>
      call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', {
        headers: { ...signedHeaders(creds, raw as unknown as string), 'content-type': 'application/json' },
        body: raw,
      });
    it('invalid UTF-8 → 400 MALFORMED_JSON (not U+FFFD)', async () => {
      const raw = Buffer.concat([Buffer.from('{"note":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const r = await sendRaw(raw);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assertEnvelope(r.body, 400, 'MALFORMED_JSON');
    });
    for (const body of ['{"note":"a","note":"b"}', '{"note":"a","x":{"k":1,"k":2}}', '{"a":[{"k":1,"\\u006b":2}]}']) {
      it(`a repeated key → 400 MALFORMED_JSON: ${body}`, async () => {
        const r = await sendRaw(Buffer.from(body));
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assertEnvelope(r.body, 400, 'MALFORMED_JSON');
      });
    }
    it('the same keys in sibling objects and in strings are fine', async () => {
      const r = await sendRaw(Buffer.from('{"note":"{\\"note\\":1,\\"note\\":2}"}'));
      assert.equal(r.status, 202, JSON.stringify(r.body));
    });
  });

  describe('defect 6: documented answers', () => {
    let doc: any;
    let creds: TenantCreds;
    before(async () => {
      doc = (await call(relay.baseUrl, 'GET', '/api/v1/openapi.json')).body;
      creds = await provision(relay.baseUrl, { callback_url_base: 'http://127.0.0.1:9' });
    });
    const documented = (path: string, status: number) => Boolean(doc.paths[`/api/v1${path}`].post.responses[String(status)]);

    it('provision/operator answers 201 then 200 for the same email, and both are documented', async () => {
      const body = { email: `a${Math.random()}@example.com`.replace('0.', ''), display_name: 'A' };
      const first = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', body);
      const again = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', body);
      assert.deepEqual([first.status, again.status], [201, 200], JSON.stringify(again.body));
      assert.ok(documented('/relay/provision/operator', 201) && documented('/relay/provision/operator', 200));
      assert.equal(
        doc.paths['/api/v1/relay/provision/operator'].post.responses['200'].content['application/json'].schema.properties.status_code.const,
        200,
      );
    });
    it('mint/visitor-token answers 201 then 200 for the same visitor, and both are documented', async () => {
      const body = { visitor_user_id: 'v-1' };
      const first = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', body);
      const again = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', body);
      assert.deepEqual([first.status, again.status], [201, 200]);
      assert.ok(documented('/relay/mint/visitor-token', 201) && documented('/relay/mint/visitor-token', 200));
    });
    it('send/auth-challenge documents both 200 and 202', () => {
      assert.ok(documented('/relay/send/auth-challenge', 200) && documented('/relay/send/auth-challenge', 202));
    });
    it('test-callback without a body is accepted, and the document says the body is optional', async () => {
      const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback');
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal(doc.paths['/api/v1/relay/send/test-callback'].post.requestBody.required, false);
      assert.equal(doc.paths['/api/v1/provision/tenant'].post.requestBody.required, true);
    });
    it('rules spanning several fields are in the JSON Schema, so generated clients send valid bodies', () => {
      const schema = (path: string) => doc.paths[`/api/v1${path}`].post.requestBody.content['application/json'].schema;
      assert.deepEqual(schema('/relay/mint/operator-token').oneOf, [{ required: ['operator_id'] }, { required: ['email'] }]);
      assert.equal(schema('/relay/prepare-pairing').anyOf.length, 2);
      assert.ok(schema('/replay/dead-letters').oneOf);
      assert.equal(schema('/update/tenant').minProperties, 1);
      const challenge = schema('/relay/send/auth-challenge');
      assert.deepEqual(challenge.then, { required: ['numbers'] });
      assert.ok(challenge.else.not);
      assert.equal(challenge.properties.numbers.uniqueItems, true);
    });
    it('431 for oversized headers comes back in the envelope', async () => {
      const r = await rawRequest(relay.baseUrl, 'GET', '/healthz', { 'x-big': 'a'.repeat(20_000) });
      assert.equal(r.status, 431);
      assertEnvelope(r.body, 431, 'HEADERS_TOO_LARGE');
    });
  });
});

describe('hardening: what schemathesis found (scripts/fuzz.sh), each a regression test', function () {
  this.timeout(30_000);
  let relay: Relay;
  before(async () => {
    relay = await startRelay('fuzzfindings');
  });
  after(async () => relay.stop());

  it('a feature flag named "." or "a.b" → 422 (was 500: FerretDB refuses "." in a document key)', async () => {
    const creds = await provision(relay.baseUrl);
    for (const flags of [{ '.': true }, { 'a.b': false }]) {
      const u = await admin(relay.baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, { feature_flags: flags });
      assert.equal(u.status, 422, JSON.stringify(u.body));
      assert.ok(u.body.error.details[0].startsWith('feature_flags.'), JSON.stringify(u.body.error.details));
      const p = await admin(relay.baseUrl, 'POST', '/provision/tenant', { tenant_name: 'x', feature_flags: flags });
      assert.equal(p.status, 422, JSON.stringify(p.body));
    }
  });
  it('visitor-session metadata keys with "." or a leading "$" → 422 (a document key FerretDB and MongoDB refuse)', async () => {
    const origin = 'https://shop.example.com';
    const creds = await provision(relay.baseUrl, { allowed_origins: [origin] });
    for (const metadata of [{ 'a.b': 1 }, { $where: 'x' }, { '.': null }]) {
      const r = await call(relay.baseUrl, 'POST', '/api/v1/create/visitor-session', {
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ tenant_id: creds.tenantId, widget_public_key: creds.widgetKey, origin, metadata }),
      });
      assert.equal(r.status, 422, JSON.stringify(r.body));
    }
  });
});

describe('hardening: callback URLs are checked when set, with private networks off', function () {
  this.timeout(30_000);
  let relay: Relay;
  before(async () => {
    relay = await startRelay('urlpolicy', { CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false' });
  });
  after(async () => relay.stop());

  const refused = [
    'http://127.0.0.1:8080',
    'http://[::1]:8080',
    'http://[::127.0.0.1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://127.1/',
    'http://10.1.2.3/',
    'http://169.254.169.254/latest',
    'http://[fd00:ec2::254]/',
    'http://localhost:3000',
    'http://api.localhost/',
  ];
  it(`${refused.length} loopback/private/metadata hosts → 422 at provision and update`, async () => {
    const creds = await provision(relay.baseUrl);
    for (const url of refused) {
      for (const field of ['callback_url_base', 'bot_webhook_url']) {
        const p = await admin(relay.baseUrl, 'POST', '/provision/tenant', { tenant_name: 'x', [field]: url });
        assert.equal(p.status, 422, `${url}: ${JSON.stringify(p.body)}`);
        assert.ok(p.body.error.details[0].startsWith(`${field}:`));
        const u = await admin(relay.baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, { [field]: url });
        assert.equal(u.status, 422, `${url}: ${JSON.stringify(u.body)}`);
      }
    }
  });
  it('public hosts and names are accepted', async () => {
    const p = await admin(relay.baseUrl, 'POST', '/provision/tenant', {
      tenant_name: 'x',
      callback_url_base: 'https://hooks.example.com',
      bot_webhook_url: 'http://93.184.216.34/bot',
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
  });
});
