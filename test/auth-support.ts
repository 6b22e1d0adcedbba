/** Helpers shared by the Auth Relay tests: a paired user in one call, the seed's prepare-pairing body. */
import assert from 'node:assert/strict';
import { DeviceClient } from '../scripts/device.js';
import { signed, type TenantCreds } from './support/client.js';

let seq = 0;
export const newUserHash = (): string => `ush_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** The body of the quickstart seed (002), for a given user. */
export const seedPairingBody = (userSocketHash: string) => ({
  user_socket_hash: userSocketHash,
  backend_user_id: '507f1f77bcf86cd799439011',
  user_email: 'jane@example.com',
  display_name: 'Example',
});

export async function prepareProof(baseUrl: string, creds: TenantCreds, userSocketHash: string): Promise<string> {
  const r = await signed(baseUrl, creds, 'POST', '/relay/prepare-pairing', seedPairingBody(userSocketHash));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data.pairing_proof as string;
}

export async function pairDevice(
  baseUrl: string,
  creds: TenantCreds,
  userSocketHash: string,
  o: { fcmToken?: string | null; deviceName?: string } = {},
): Promise<DeviceClient> {
  const device = DeviceClient.create(baseUrl);
  const r = await device.pair(await prepareProof(baseUrl, creds, userSocketHash), { fcmToken: o.fcmToken ?? null, deviceName: o.deviceName ?? 'test device' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return device;
}
