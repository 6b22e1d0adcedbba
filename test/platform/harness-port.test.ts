/**
 * The test harness's spawned API is ready only when the answer comes from it: a port another process
 * took between the harness's probe and the API's bind must not pass for the relay (a full run once
 * talked to another lane's relay that way, and its tenants' calls were refused).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnApi } from '../support/harness.js';
import { testEnv } from '../support/env.js';

describe('harness: a spawned API on a port someone else holds', () => {
  it('is refused, not mistaken for a ready relay', async function () {
    this.timeout(180_000);
    // Another server on the port, answering 200 to everything (as another lane's /readyz would).
    const other = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const { port } = other.address() as AddressInfo;
    try {
      await assert.rejects(spawnApi(testEnv('harness-port'), { port }), /EADDRINUSE/);
    } finally {
      other.close();
    }
  });
});
