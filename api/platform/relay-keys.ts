/** GET /fetch/relay-keys: the relay's public signing keys (JWKS), for devices checking what the relay signed (QR codes). */
import { z } from 'zod';
import { relayJwks } from '../../platform/relay-keys.js';
import { defineRoute } from '../route.js';

export const fetchRelayKeys = defineRoute({
  method: 'get',
  path: '/fetch/relay-keys',
  summary: "The relay's public signing keys (JWKS)",
  description:
    'Public. Ed25519 keys (OKP, RFC 8037) by `kid`: a device checks a QR-login code signed with the key its `kid` names. Keys rotate with SECRETS_MASTER_KEY.',
  tags: ['Platform'],
  security: 'none',
  response: z.object({
    keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), use: z.string(), alg: z.string() })),
  }),
  handler: async (_ctx, { deps }) => ({ message: 'Relay keys.', data: relayJwks(deps.config.secretsMasterKey) }),
});
