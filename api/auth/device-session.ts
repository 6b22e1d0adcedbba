/** A paired device's own session (docs/contract.md §2.1, step 3): rotate its token, replace its push token, unpair. */
import { z } from 'zod';
import { revokeDevice, rotateDeviceSession, updatePushToken as setPushToken } from '../../models/auth/pairing-flow.js';
import { ApiError } from '../errors.js';
import { defineRoute } from '../route.js';
import { fcmToken } from './schemas.js';

const tags = ['Auth Relay: device protocol'];

export const refreshToken = defineRoute({
  method: 'post',
  path: '/device/refresh-token',
  summary: 'Device: rotate the device_session_token',
  description: `Returns a new device_session_token with a fresh lifetime; the presented one stops working at once (guarded update on its hash, so two concurrent refreshes cannot both succeed).`,
  tags,
  security: 'device',
  body: z.object({}).strict(),
  response: z.object({ device_session_token: z.string(), expires_at: z.string(), device_id: z.string() }),
  handler: async (_ctx, { deps, principal }) => {
    const rotated = await rotateDeviceSession(deps, principal.device);
    if (!rotated) throw new ApiError('INVALID_TOKEN', 'The device session token is invalid, expired or revoked; pair the device again.');
    return {
      message: 'Device session token rotated.',
      data: { device_session_token: rotated.sessionToken, expires_at: rotated.expiresAt.toISOString(), device_id: principal.device._id },
    };
  },
});

export const updatePushToken = defineRoute({
  method: 'post',
  path: '/device/update-push-token',
  summary: 'Device: replace (or clear) its FCM registration token',
  description: `FCM rotates registration tokens; the app reports the new one here. The request is signed by the device key like every device request, so nobody holding only the session token can redirect pushes. \`null\` turns push off (the device polls).`,
  tags,
  security: 'device',
  body: z.object({ fcm_token: fcmToken.nullable() }).strict(),
  response: z.object({ device_id: z.string(), push_enabled: z.boolean() }),
  handler: async (_ctx, { body, deps, principal }) => {
    await setPushToken(deps, principal.device, body.fcm_token);
    return {
      message: body.fcm_token ? 'Push token updated.' : 'Push token cleared; poll for requests.',
      data: { device_id: principal.device._id, push_enabled: Boolean(body.fcm_token) },
    };
  },
});

export const unpair = defineRoute({
  method: 'post',
  path: '/device/unpair',
  summary: 'Device: unpair itself',
  description: `Revokes this device: its session token and key stop working at once, it gets no more pushes, and the tenant gets a \`pairing.device_removed\` callback. The user's other devices stay paired.`,
  tags,
  security: 'device',
  body: z.object({}).strict(),
  response: z.object({ device_id: z.string(), status: z.literal('revoked') }),
  handler: async (_ctx, { deps, principal }) => {
    const device = await revokeDevice(deps, principal.device, 'device');
    return { message: 'Device unpaired.', data: { device_id: device._id, status: 'revoked' as const } };
  },
});
