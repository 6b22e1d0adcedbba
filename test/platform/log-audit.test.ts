/**
 * The secrets-never-logged check itself (test/support/log-audit.ts): it finds a secret however a log
 * line would carry it, and it really reads the logs of in-process and child-process relays.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AUDIT_FILE, findSecrets } from '../support/log-audit.js';
import { call } from '../support/client.js';
import { eventually, spawnApi, startRelay } from '../support/harness.js';

describe('secrets audit: the check that no secret reaches a log', function () {
  this.timeout(60_000);
  const secret = `sk_${'Q'.repeat(20)}abc-_def`;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJ2aXNpdG9yIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2ln';
  const values = new Map([
    [secret, 'tenant_secret'],
    [jwt, 'bearer token'],
  ]);

  for (const [where, line] of <[string, string][]>[
    ['a JSON field', `{"level":"info","msg":"oops","tenant_secret":"${secret}"}`],
    ['a URL query', `{"msg":"upgrade","url":"/api/v1/ws/widget?token=${jwt}&last_seq=1"}`],
    ['an Authorization header', `{"msg":"req","headers":{"authorization":"Bearer ${jwt}"}}`],
    ['an error message, truncated', `{"msg":"bad","err":"signature ${secret.slice(0, 26)}... refused"}`],
  ]) {
    it(`finds a secret in ${where}`, () => {
      assert.ok(findSecrets(line, values).length >= 1, line);
    });
  }
  it('names the kind and the line’s message, never the secret', () => {
    const hits = findSecrets(`{"msg":"oops","x":"${secret}"}`, values);
    assert.deepEqual(hits, [['tenant_secret', 'oops']]);
  });
  it('ignores lines without them', () => {
    assert.deepEqual(findSecrets('{"msg":"request","path":"/api/v1/relay/send/test-callback","status":202}', values), []);
  });

  it('the audited log holds the lines of in-process relays and of child processes', async () => {
    const relay = await startRelay('audit');
    try {
      const a = await call(relay.baseUrl, 'GET', '/healthz', { headers: { 'X-Request-Id': 'audit-inprocess-0001' } });
      assert.equal(a.status, 200);
      const api = await spawnApi(relay.env);
      try {
        await call(api.url, 'GET', '/healthz', { headers: { 'X-Request-Id': 'audit-child-000001' } });
        await eventually(async () => {
          const text = readFileSync(AUDIT_FILE, 'utf8');
          return text.includes('audit-inprocess-0001') && text.includes('audit-child-000001');
        }, 5000);
      } finally {
        await api.kill();
      }
    } finally {
      await relay.stop();
    }
  });
});
