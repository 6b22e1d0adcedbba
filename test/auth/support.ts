/** Helpers shared by the Auth Relay tests: a paired user in one call, the seed's prepare-pairing body. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '../../platform/signing.js';
import { DeviceClient } from '../../scripts/device.js';
import { signed, type TenantCreds } from '../support/client.js';

let seq = 0;
export const newUserHash = (): string => `ush_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** The body of the quickstart seed (002), for a given user. */
export const seedPairingBody = (userSocketHash: string) => ({
  user_socket_hash: userSocketHash,
  backend_user_id: '507f1f77bcf86cd799439011',
  user_email: 'jane@example.com',
  display_name: 'Example',
});

export async function prepareProof(baseUrl: string, creds: TenantCreds, userSocketHash: string, backendUserId?: string): Promise<string> {
  const body = { ...seedPairingBody(userSocketHash), ...(backendUserId ? { backend_user_id: backendUserId } : {}) };
  const r = await signed(baseUrl, creds, 'POST', '/relay/prepare-pairing', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data.pairing_proof as string;
}

export async function pairDevice(
  baseUrl: string,
  creds: TenantCreds,
  userSocketHash: string,
  o: { fcmToken?: string | null; deviceName?: string; backendUserId?: string } = {},
): Promise<DeviceClient> {
  const device = DeviceClient.create(baseUrl);
  const r = await device.pair(await prepareProof(baseUrl, creds, userSocketHash, o.backendUserId), {
    fcmToken: o.fcmToken ?? null,
    deviceName: o.deviceName ?? 'test device',
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return device;
}

export type ReceivedCallback = { path: string; headers: http.IncomingHttpHeaders; raw: string; body: any; signatureValid: boolean };

/** A tenant's callback receiver on a real socket; checks each callback's HMAC #1 signature with the tenant secret. */
export async function startReceiver(): Promise<{
  url: string;
  received: ReceivedCallback[];
  setSecret: (s: string) => void;
  close: () => Promise<void>;
}> {
  const received: ReceivedCallback[] = [];
  let secret = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-bloonio-timestamp'] ?? '');
      const signatureValid = Boolean(secret) && sign(secret, ts, raw) === req.headers['x-bloonio-signature'];
      received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw || '{}'), signatureValid });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    setSecret: (s) => (secret = s),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A valid send/auth-challenge body. */
export const challengeBody = (userSocketHash: string, extra: Record<string, unknown> = {}) => ({
  user_socket_hash: userSocketHash,
  instruction_id: `ins_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`,
  custom_type: 'localAuth',
  expected_action: 'transfer_funds',
  backend_url: 'https://api.example.com',
  description: 'Confirm the transfer of 120.00 USD to ACME Ltd',
  ttl_seconds: 120,
  display: {
    title: 'Confirm the transfer',
    fields: [
      { key: 'amount', title: 'Amount', value: '120.00', data_type: 'CURRENCY_USD' },
      { key: 'to', title: 'Beneficiary', value: 'ACME Ltd', data_type: 'PARTY_NAME' },
    ],
  },
  ...extra,
});
