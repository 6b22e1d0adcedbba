/**
 * Client IPs behind proxies (issue 20, "Proxies"): every per-IP limit keys on the address the
 * configured number of trusted proxy hops saw, counted from the right of X-Forwarded-For. What a
 * client writes to the left of it (its own X-Forwarded-For) never moves it to a fresh bucket.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { clientIp } from '../../platform/client-ip.js';
import { parseConfig } from '../../platform/config.js';
import { provision, type TenantCreds } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const spoof = () => `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

async function session(relay: Relay, creds: TenantCreds, xff: string): Promise<number> {
  const r = await fetch(`${relay.baseUrl}/api/v1/create/visitor-session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: ORIGIN, 'X-Forwarded-For': xff },
    body: JSON.stringify({ tenant_id: creds.tenantId, widget_public_key: creds.widgetKey, origin: ORIGIN }),
  });
  await r.body?.cancel();
  return r.status;
}

const req = (xff: string | string[] | undefined, peer = '10.1.2.3') =>
  ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: peer } }) as unknown as http.IncomingMessage;

describe('platform: client IPs behind proxies', function () {
  this.timeout(60_000);

  describe('clientIp', () => {
    it('takes the configured number of hops from the right, never the leftmost', () => {
      assert.equal(clientIp(req('6.6.6.6, 203.0.113.7'), 1), '203.0.113.7');
      assert.equal(clientIp(req('6.6.6.6, 203.0.113.7, 10.0.0.2'), 2), '203.0.113.7');
      assert.equal(clientIp(req(['6.6.6.6', '203.0.113.7, 10.0.0.2']), 2), '203.0.113.7', 'repeated headers are one list');
      assert.equal(clientIp(req('203.0.113.7'), 3), '203.0.113.7', 'a shorter chain: its only entry');
    });
    it('without a trusted proxy the socket peer is the client, whatever X-Forwarded-For says', () => {
      assert.equal(clientIp(req('6.6.6.6'), 0), '10.1.2.3');
      assert.equal(clientIp(req(undefined, '::ffff:192.0.2.1'), 0), '192.0.2.1');
      assert.equal(clientIp(req(undefined), 1), '10.1.2.3', 'no header: the peer');
    });
    it('TRUST_PROXY=true is one hop; TRUST_PROXY_HOPS sets any number', () => {
      const base = { REDIS_URL: 'redis://127.0.0.1:6379', MONGODB_URI: 'mongodb://127.0.0.1:27017/x' };
      const env = { ...base, ADMIN_API_KEY: 'a-long-enough-admin-key-000000', SECRETS_MASTER_KEY: '00'.repeat(32) };
      assert.equal(parseConfig(env).trustProxyHops, 0);
      assert.equal(parseConfig({ ...env, TRUST_PROXY: 'true' }).trustProxyHops, 1);
      assert.equal(parseConfig({ ...env, TRUST_PROXY_HOPS: '2' }).trustProxyHops, 2);
      assert.equal(parseConfig({ ...env, TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '3' }).trustProxyHops, 3);
    });
  });

  for (const [name, env, chain] of [
    ['TRUST_PROXY=true (one hop)', { TRUST_PROXY: 'true' }, (client: string) => `${spoof()}, ${client}`],
    ['TRUST_PROXY_HOPS=2', { TRUST_PROXY_HOPS: '2' }, (client: string) => `${spoof()}, ${client}, 10.0.0.${randomBytes(1)[0]}`],
  ] as const) {
    describe(`the per-IP session limit with ${name}`, () => {
      let relay: Relay;
      let creds: TenantCreds;
      before(async () => {
        relay = await startRelay('proxies', { ...env, CHAT_SESSIONS_PER_IP_PER_HOUR: '2' });
        creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
      });
      after(async () => relay?.stop());

      it('a spoofed leftmost X-Forwarded-For does not change the limited IP; another client is its own bucket', async () => {
        assert.equal(await session(relay, creds, chain('203.0.113.7')), 201);
        assert.equal(await session(relay, creds, chain('203.0.113.7')), 201);
        assert.equal(await session(relay, creds, chain('203.0.113.7')), 429, 'a third session from one client, whatever it wrote');
        assert.equal(await session(relay, creds, chain('203.0.113.8')), 201, 'the hop our proxy wrote is what counts');
      });
    });
  }
});
