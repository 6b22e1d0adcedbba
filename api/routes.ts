/** Every API route, in one list: mounted by api/app.ts and documented by api/openapi.ts. */
import type { AnyRoute } from './route.js';
import { chatRoutes } from './chat/index.js';
import { adminDeliveryRoutes } from './platform/deliveries.js';
import { adminTenantRoutes } from './platform/tenants.js';
import { fetchRelayKeys } from './platform/relay-keys.js';
import { sendTestCallback } from './platform/test-callback.js';
import { authRoutes } from './auth/index.js';

export const ROUTES: AnyRoute[] = [
  ...adminTenantRoutes,
  ...adminDeliveryRoutes,
  sendTestCallback,
  fetchRelayKeys,
  ...authRoutes,
  ...chatRoutes,
];
