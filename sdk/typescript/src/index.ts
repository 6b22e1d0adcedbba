/**
 * @bloonio/relay — the Node SDK of Bloonio Relay (Auth Relay and Chat Relay).
 *
 *   import { RelayClient, verifyCallback, sudoRequired } from '@bloonio/relay';
 */
export { RelayClient, ChatRelayClient, getChatClient, RELAY_CLIENT_ROUTES, type Method, type Methods } from './client.js';
export { AUTH_ROUTES } from './routes/auth.js';
export { CHAT_ROUTES } from './routes/chat.js';
export { SUDO_ROUTES } from './routes/sudo.js';
export type { RouteSpec, InputOf, OutputOf } from './routes/spec.js';
export type { CallOptions, ResponseMeta, WithResponse, TransportOptions } from './transport.js';
export { RelaySettings, ChatRelaySettings, DEFAULT_CALLBACK_PATH, type RelaySettingsInit, type ChatRelaySettingsInit } from './settings.js';
export {
  BloonioError,
  ConfigurationError,
  RelayError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  GoneError,
  ValidationFailedError,
  RateLimitedError,
  UpstreamUnavailableError,
  StoreUnavailableError,
  ServerError,
  RelayConnectionError,
  RelayTimeoutError,
  CallbackVerificationError,
  type CallbackRefusal,
} from './errors.js';
export {
  sign,
  signedHeaders,
  verifyCallback,
  TENANT_HEADER,
  TIMESTAMP_HEADER,
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  TOLERANCE_SECONDS,
  type HeadersLike,
  type RawBody,
  type ReplayStore,
  type VerifyOptions,
} from './signing.js';
export {
  CALLBACK_EVENTS,
  CALLBACK_EVENT_TYPES,
  CHAT_EVENTS,
  type ApprovalEvent,
  type CallbackData,
  type CallbackEvent,
  type CallbackEventOf,
  type CallbackEventType,
  type ChatEventName,
} from './callback-events.js';
export {
  ActionType,
  ApprovalStatus,
  DataType,
  SudoActionType,
  SudoEventType,
  validationFields,
  type FieldInput,
  type ValidationField,
} from './enums.js';
export type { KV } from './stores/kv.js';
export { MemoryKV } from './stores/memory.js';
export { RedisKV, type RedisLike } from './stores/redis.js';
export {
  SudoInstructionStore,
  replayStore,
  INSTRUCTION_TRANSITIONS,
  TYPED_CUSTOM_TYPES,
  type Decision,
  type Instruction,
  type InstructionStatus,
  type InstructionTransition,
} from './stores/instructions.js';
export { PendingOpStore, type PendingOp, type PendingOpStatus } from './stores/pending-ops.js';
export {
  SudoCore,
  SudoResponse,
  fingerprint,
  INSTRUCTION_HEADER,
  KEY_REQUIRED,
  KEY_PENDING,
  KEY_INVALID,
  RESPONSE_REQUIRED,
  goldenNumbers,
  type ApprovalOutcome,
  type Logger,
  type QuorumAccepted,
  type QuorumOptions,
  type SudoOptions,
  type Value,
} from './sudo/core.js';
export { CallbackRouter, type CallbackHandler, type CallbackHandlers, type CallbackRouterOptions } from './http/callback-router.js';
export type {
  DualMiddleware,
  ExpressMiddleware,
  ExpressRequestLike,
  ExpressResponseLike,
  KoaContextLike,
  KoaMiddleware,
} from './http/exchange.js';
export {
  BloonioAuth,
  sudoRequired,
  SUBMIT_RESPONSE_PATH,
  AUTH_EVENT_TYPES,
  type AuthEventType,
  type BloonioAuthOptions,
} from './bloonio-auth.js';
export { BloonioChat, CHAT_EVENT_TYPES, type BloonioChatOptions, type ChatEventType } from './bloonio-chat.js';
export { VERSION } from './version.js';
