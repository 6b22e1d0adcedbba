/** Every Auth Relay route (pairing, devices, challenges, the device protocol), for api/routes.ts. */
import type { AnyRoute } from '../route.js';
import { challengeRoutes } from './challenges.js';
import { deviceRequestRoutes } from './device-requests.js';
import { pairingRoutes } from './pairing.js';

export const authRoutes: AnyRoute[] = [...pairingRoutes, ...challengeRoutes, ...deviceRequestRoutes];
