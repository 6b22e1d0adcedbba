/** Every Auth Relay route (pairing, devices, challenges, the device protocol, passkeys), for api/routes.ts. */
import type { AnyRoute } from '../route.js';
import { challengeRoutes } from './challenges.js';
import { deviceRequestRoutes } from './device-requests.js';
import { pairingRoutes } from './pairing.js';
import { webauthnRoutes } from './webauthn/index.js';

export const authRoutes: AnyRoute[] = [...pairingRoutes, ...challengeRoutes, ...deviceRequestRoutes, ...webauthnRoutes];
