/** Every Auth Relay route (pairing, devices, challenges, the device protocol, passkeys), for api/routes.ts. */
import type { AnyRoute } from '../route.js';
import { fetchDeliveryStatus } from './delivery-status.js';
import { qrLoginAnswer } from './device-qr.js';
import { answerRequest, openRequestRoute, pollRequests } from './device-requests.js';
import { refreshToken, unpair, updatePushToken } from './device-session.js';
import { fetchDevices, revokeDevice } from './devices.js';
import { preparePairing } from './prepare-pairing.js';
import { qrLoginInitiate, qrLoginPoll } from './qr-login.js';
import { registerToken } from './register-device.js';
import { sendAuthChallenge, sendSecurityAlert } from './send-to-devices.js';
import { sudoRoutes } from './sudo/index.js';
import { webauthnRoutes } from './webauthn/index.js';

export const authRoutes: AnyRoute[] = [
  preparePairing,
  fetchDevices,
  revokeDevice,
  registerToken,
  refreshToken,
  updatePushToken,
  unpair,
  sendAuthChallenge,
  sendSecurityAlert,
  fetchDeliveryStatus,
  pollRequests,
  openRequestRoute,
  answerRequest,
  qrLoginInitiate,
  qrLoginPoll,
  qrLoginAnswer,
  ...sudoRoutes,
  ...webauthnRoutes,
];
