/**
 * Every Redis key and channel the relay writes, in one list (BullMQ's own keys aside: it builds them
 * from QUEUE_PREFIX and the queue names in queues/names.ts). Each takes the configured prefix first.
 *
 * A tenant's keys carry the tenant id as a hash tag (`{tnt_…}`), so on Redis Cluster all the keys one
 * script or MULTI touches for a tenant live on one slot. Keys that are only ever used alone (claims,
 * nonces) need no tag. These strings are persisted: changing one orphans what is stored under it.
 */
export const redisKey = {
  // ---- platform -------------------------------------------------------------------------------
  /** Counter bumped by every admin change of a tenant; processes reload their cached entry when it moves. */
  tenantGeneration: (p: string, tenantId: string) => `${p}:{${tenantId}}:gen`,
  /** A request signature seen inside the replay window (HMAC gate). */
  signatureSeen: (p: string, tenantId: string, signature: string) => `${p}:{${tenantId}}:seen:${signature}`,
  /** One minute of the tenant's sliding-window rate limit (HMAC gate). */
  rateLimitWindow: (p: string, tenantId: string, windowIndex: number) => `${p}:{${tenantId}}:rl:${windowIndex}`,
  /** Callback deliveries in flight for a tenant (a sorted set of leases), its failure count and open circuit. */
  deliveryInflight: (p: string, tenantId: string) => `${p}:{${tenantId}}:dlv:inflight`,
  deliveryFailures: (p: string, tenantId: string) => `${p}:{${tenantId}}:dlv:failures`,
  deliveryCircuit: (p: string, tenantId: string) => `${p}:{${tenantId}}:dlv:circuit`,
  /** The tenant's recent attempt duration (EWMA, ms): whether its endpoint is fast enough for the burst cap. */
  deliveryLatency: (p: string, tenantId: string) => `${p}:{${tenantId}}:dlv:latency`,
  /** Fleet-wide callback delivery outcomes (HINCRBY by workers, read by /metrics). */
  deliveryOutcomes: (p: string) => `${p}:metrics:deliveries`,
  /** An exactly-once decision taken (platform/claims.ts). */
  claim: (p: string, what: string) => `${p}:claim:${what}`,
  /** A live console session (its absence revokes every token of the session). */
  consoleSession: (p: string, sessionId: string) => `${p}:{console}:session:${sessionId}`,
  // Console (models/console/): the keys share the `{console}` tag, so limits counted together stay on one slot.
  /** The session ids of one account (to list them, and end them all at a password change or removal). */
  consoleAccountSessions: (p: string, accountId: string) => `${p}:{console}:acct-sessions:${accountId}`,
  /** A one-time code challenge (registration, sign-in, reset, TOTP enrolment): its code hash, expiry, attempts. */
  consoleChallenge: (p: string, id: string) => `${p}:{console}:chl:${id}`,
  /** A mail waiting for the worker (sealed: it may hold a code or a link); the job carries only its id. */
  consoleMail: (p: string, mailId: string) => `${p}:{console}:mail:${mailId}`,
  /** A TOTP time step already used by an account (a code works once). */
  consoleTotpUsed: (p: string, accountId: string, step: number) => `${p}:{console}:totp-used:${accountId}:${step}`,
  /** Abuse limits (a fixed window is appended): `what` names the action, `who` an address hash or a client IP. */
  consoleLimit: (p: string, what: string, who: string) => `${p}:{console}:rl:${what}:${who}`,

  // ---- Auth Relay -----------------------------------------------------------------------------
  /** A device request nonce already used, per signer (a device, or a pairing intent). */
  deviceNonce: (p: string, signer: string, nonce: string) => `${p}:devnonce:${signer}:${nonce}`,
  /** The device a session token (by its SHA-256) belongs to, and its generation (models/auth/device-session-cache.ts). */
  deviceSession: (p: string, tokenHash: string) => `${p}:{dsess:${tokenHash}}:device`,
  deviceSessionGeneration: (p: string, tokenHash: string) => `${p}:{dsess:${tokenHash}}:gen`,
  /** MongoDB lookups of legacy-format (pre-MAC) device session tokens, fleet-wide (a fixed window is appended). */
  legacyDeviceSessionLookups: (p: string) => `${p}:dsess-legacy-lookups`,
  /** Set when a device's last_seen_at was last written, so polls write it at most once per interval. */
  deviceSeen: (p: string, tenantId: string, deviceId: string) => `${p}:{${tenantId}}:devseen:${deviceId}`,
  /** Push fatigue counter of one person: the owner tenant's pairing (a fixed window is appended: models/auth/prompt-fatigue.ts). */
  pushFatigue: (p: string, tenantId: string, userSocketHash: string) => `${p}:{${tenantId}}:fatigue:${userSocketHash}`,
  /** A user's pairing and active devices (models/auth/fanout-cache.ts). */
  fanout: (p: string, tenantId: string, userSocketHash: string) => `${p}:{${tenantId}}:fanout:${userSocketHash}`,
  /** Bumped by every write that changes that fan-out, so a load that raced it does not cache what it read. */
  fanoutGeneration: (p: string, tenantId: string, userSocketHash: string) => `${p}:{${tenantId}}:fanout-gen:${userSocketHash}`,
  /** A live approval request (models/auth/approval-state.ts), and its instruction id while live. */
  approval: (p: string, tenantId: string, requestId: string) => `${p}:{${tenantId}}:apr:${requestId}`,
  approvalInstruction: (p: string, tenantId: string, instructionId: string) => `${p}:{${tenantId}}:instr:${instructionId}`,
  /** The approval requests addressed to one device, scored by expiry (what its poll reads). */
  deviceOpenRequests: (p: string, tenantId: string, deviceId: string) => `${p}:{${tenantId}}:dev-open:${deviceId}`,
  /** What a device was shown of a sudo request (its data and their hash), per device, once it opened it. */
  approvalShown: (p: string, tenantId: string, requestId: string) => `${p}:{${tenantId}}:apr-shown:${requestId}`,
  /** A sudo dispatch's idempotency key: the event it created and the hash of its body. */
  sudoIdempotency: (p: string, tenantId: string, key: string) => `${p}:{${tenantId}}:sudo-idem:${key}`,
  /** Attempts at checking a typed response against a device's answer (POST /relay/sudo/submit-response). */
  submitResponseAttempts: (p: string, tenantId: string, instructionId: string) => `${p}:{${tenantId}}:submit-resp:${instructionId}`,
  /** The user_socket_hashes of a relay_user link's pairings (models/auth/sudo-flow.ts). */
  linkPairings: (p: string, tenantId: string, linkId: string) => `${p}:{${tenantId}}:link-pairings:${linkId}`,
  /** A QR-login session (models/auth/qr-login.ts). */
  qrLogin: (p: string, tenantId: string, sessionId: string) => `${p}:{${tenantId}}:qr:${sessionId}`,
  /** What the push worker sends for one approval request: the FCM message and each device's token. */
  pushManifest: (p: string, tenantId: string, requestId: string) => `${p}:{${tenantId}}:push-manifest:${requestId}`,
  /** Each device's final push outcome of one approval request, and the channel that announces one. */
  pushSettled: (p: string, tenantId: string, requestId: string) => `${p}:{${tenantId}}:push-settled:${requestId}`,
  pushSettledChannel: (p: string) => `${p}:push-settled`,
  /** FCM sends per second across all workers (a fixed window is appended). */
  fcmSendRate: (p: string) => `${p}:fcm-rate`,

  // ---- Chat Relay -----------------------------------------------------------------------------
  /** The tenant's fan-out channel: every API process holding one of its sockets subscribes. */
  chatChannel: (p: string, tenantId: string) => `${p}:chat:{${tenantId}}`,
  /** A conversation's routing state and message counter (models/chat/conversation-state.ts). */
  conversationState: (p: string, tenantId: string, conversationId: string) => `${p}:chat:{${tenantId}}:cv:${conversationId}`,
  /** A conversation's latest messages (a sorted set by seq, JSON views): replay without MongoDB (models/chat/recent-messages.ts). */
  conversationRecent: (p: string, tenantId: string, conversationId: string) => `${p}:chat:{${tenantId}}:recent:${conversationId}`,
  /** A conversation's numbers taken but not yet in the recent set (seq → Redis time it was taken): what a reader at a gap waits for. */
  conversationInFlight: (p: string, tenantId: string, conversationId: string) => `${p}:chat:{${tenantId}}:inflight:${conversationId}`,
  /** The lock serialising one passkey's counter check (models/auth/passkey.ts recordPasskeyUse); `docId` is its hashed id. */
  passkeyUseLock: (p: string, tenantId: string, docId: string) => `${p}:auth:{${tenantId}}:pk-use:${docId}`,
  /** The lock serialising one conversation's state changes. */
  conversationLock: (p: string, tenantId: string, conversationId: string) => `${p}:chat:{${tenantId}}:lock:${conversationId}`,
  /** Abuse limits (fixed windows appended): sessions per IP, messages per session, per tenant, connects. */
  chatSessionsPerIp: (p: string, tenantId: string, ip: string) => `${p}:chat:{${tenantId}}:sess-ip:${ip}`,
  chatSessionMessages: (p: string, tenantId: string, sessionId: string) => `${p}:chat:{${tenantId}}:msg:${sessionId}`,
  chatTenantMessages: (p: string, tenantId: string) => `${p}:chat:{${tenantId}}:msg-rate`,
  chatConnects: (p: string, tenantId: string) => `${p}:chat:{${tenantId}}:conn`,
  /** A one-time socket ticket, by the SHA-256 of the ticket (the ticket itself is never a key): api/chat/socket-tickets.ts. */
  chatSocketTicket: (p: string, ticketHash: string) => `${p}:chat:ticket:${ticketHash}`,
  /** An operator's hot access record: token version, status, role, routing keys (models/chat/operator-record.ts). */
  chatOperatorRecord: (p: string, tenantId: string, operatorId: string) => `${p}:chat:{${tenantId}}:op:${operatorId}`,
  /** Every process's operator sockets hear on this channel that an operator's access changed (closed with 4401). */
  chatOperatorAccessChannel: (p: string) => `${p}:chat:operator-access`,
  /** Whether the tenant has an active operator (widget-config's `online`), cached; dropped when an operator changes. */
  chatOnline: (p: string, tenantId: string) => `${p}:chat:{${tenantId}}:online`,
  /** A visitor session's token generation: refresh bumps it, so only the newest token works (api/principals/visitor.ts). */
  chatVisitorGeneration: (p: string, tenantId: string, sessionId: string) => `${p}:chat:{${tenantId}}:vgen:${sessionId}`,
  /** A visitor message's client_id, claimed once; then its ack, so a resend gets the same ack (api/chat/ws/client-ids.ts). */
  chatClientId: (p: string, tenantId: string, sessionId: string, clientId: string) =>
    `${p}:chat:{${tenantId}}:cid:${sessionId}:${clientId}`,
} as const;
