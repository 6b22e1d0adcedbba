/** The seven passkey (WebAuthn) routes of docs/contract.md §2.5, for api/auth/index.ts. */
import { authenticateRoutes } from './authenticate.js';
import { passkeyRoutes } from './passkeys.js';
import { registerRoutes } from './register.js';

export const webauthnRoutes = [...registerRoutes, ...authenticateRoutes, ...passkeyRoutes];
