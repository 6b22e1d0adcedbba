/** The backend's view of a user's devices (docs/contract.md §2.1, decided): list them, revoke one. */
import { z } from 'zod';
import { toPublicDevice } from '../../models/auth/device.js';
import { devicesOfPairing, findUserDevice } from '../../models/auth/device-data.js';
import { findPairing } from '../../models/auth/pairing.js';
import { revokeDevice as revoke } from '../../models/auth/pairing-flow.js';
import { notFound } from '../errors.js';
import { defineRoute, type RequestBody, type RequestQuery, type ResponseData } from '../route.js';
import { publicDevice, userSocketHash } from './schemas.js';

const backendTags = ['Auth Relay: pairing & devices'];

export const fetchDevices = defineRoute({
  method: 'get',
  path: '/relay/fetch/devices',
  summary: "List a user's paired devices",
  description:
    "Every device of the pairing of `user_socket_hash`, active and revoked, newest last. Never shows tokens or keys. A user_socket_hash this tenant has not paired (including another tenant's) answers 404.",
  tags: backendTags,
  security: 'hmac',
  query: z.object({ user_socket_hash: userSocketHash }),
  response: z.object({
    user_socket_hash: z.string(),
    pairing_id: z.string(),
    relay_user_linked_id: z.string(),
    devices: z.array(publicDevice),
  }),
  errors: [404],
  handler: async (_ctx, { query, principal }) => {
    const tenant = principal.tenant.id;
    const pairing = await findPairing(tenant, query.user_socket_hash);
    if (!pairing) throw notFound('Pairing');
    const devices = await devicesOfPairing(tenant, pairing._id);
    return {
      message: `${devices.filter((d) => d.status === 'active').length} active device(s).`,
      data: {
        user_socket_hash: pairing.user_socket_hash,
        pairing_id: pairing._id,
        relay_user_linked_id: pairing.relay_user_linked_id,
        devices: devices.map(toPublicDevice),
      },
    };
  },
});

export const revokeDevice = defineRoute({
  method: 'post',
  path: '/relay/revoke/device',
  summary: "Revoke one of a user's devices",
  description:
    "The device stops working at once (session, key, pushes). Idempotent: revoking a revoked device answers 200. A device that is not one of this user's devices in this tenant answers 404.",
  tags: backendTags,
  security: 'hmac',
  body: z
    .object({ user_socket_hash: userSocketHash, device_id: z.string().regex(/^dev_[0-9a-z]{26}$/, 'must be a device id (dev_…)') })
    .strict(),
  response: publicDevice,
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const device = await findUserDevice(principal.tenant.id, body.user_socket_hash, body.device_id);
    if (!device) throw notFound('Device');
    const revoked = await revoke(deps, device, 'backend');
    return { message: 'Device revoked.', data: toPublicDevice(revoked) };
  },
});

/** The wire types of these routes, for clients and tests. */
export type FetchDevicesQuery = RequestQuery<typeof fetchDevices>;
export type FetchDevicesResponse = ResponseData<typeof fetchDevices>;
export type RevokeDeviceRequest = RequestBody<typeof revokeDevice>;
export type RevokeDeviceResponse = ResponseData<typeof revokeDevice>;
