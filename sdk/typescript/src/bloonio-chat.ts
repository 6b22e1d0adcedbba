/**
 * BloonioChat: the Chat Relay's nine callbacks in a Koa or Express backend (the Python SDK's
 * BloonioChatAdapter). `BloonioChat.fromEnv({ handlers })` reads `BLOONIO_CHAT_*`; its middleware
 * answers `POST /api/v1/chat-callbacks/{event}` for the nine events, each verified, and dispatches
 * to the handler of its event (an unhandled event is accepted and logged, `{"received": true}`).
 */
import { CALLBACK_EVENT_TYPES, chatEventName, chatEventType, type CallbackEventType, type ChatEventName } from './callback-events.js';
import { ChatRelayClient } from './client.js';
import { CallbackRouter, type CallbackHandler, type CallbackHandlers } from './http/callback-router.js';
import type { DualMiddleware } from './http/exchange.js';
import { ChatRelaySettings, type ChatRelaySettingsInit } from './settings.js';
import type { ReplayStore } from './signing.js';
import type { Logger } from './sudo/core.js';
import type { TransportOptions } from './transport.js';

export type ChatEventType = Extract<CallbackEventType, `chat.${string}`>;
export const CHAT_EVENT_TYPES = CALLBACK_EVENT_TYPES.filter((t): t is ChatEventType => t.startsWith('chat.'));

/** A chat event's name as a handler key: `message-received`, `message_received` or `chat.message-received`. */
type ChatKey = ChatEventName | ChatEventType;
type HandlerOf<K extends string> = K extends ChatEventType
  ? CallbackHandler<K>
  : K extends ChatEventName
    ? CallbackHandler<`chat.${K}`>
    : CallbackHandler<ChatEventType>;

export interface BloonioChatOptions {
  settings?: ChatRelaySettings | ChatRelaySettingsInit;
  client?: ChatRelayClient;
  handlers?: { [K in ChatKey]?: HandlerOf<K> };
  /** Where seen signatures are remembered (default: this process's memory; several processes: Redis). */
  replayStore?: ReplayStore;
  parseJson?: boolean;
  logger?: Logger;
  transport?: TransportOptions;
}

export class BloonioChat {
  readonly settings: ChatRelaySettings;
  readonly client: ChatRelayClient;
  readonly callbacks: CallbackRouter;

  constructor(o: BloonioChatOptions = {}) {
    this.settings = o.settings instanceof ChatRelaySettings ? o.settings : new ChatRelaySettings(o.settings);
    this.client = o.client ?? new ChatRelayClient(this.settings, o.transport);
    const handlers: CallbackHandlers = {};
    for (const [k, fn] of Object.entries(o.handlers ?? {})) {
      (handlers as Record<string, unknown>)[chatEventType(chatEventName(k))] = fn;
    }
    this.callbacks = new CallbackRouter({
      secret: this.settings.tenantSecret,
      tenantId: this.settings.tenantId,
      events: CHAT_EVENT_TYPES,
      handlers,
      replayStore: o.replayStore,
      logger: o.logger,
      parseJson: o.parseJson,
    });
  }

  /** Reads `BLOONIO_CHAT_*` (a missing or bad setting throws one ConfigurationError naming each). */
  static fromEnv(o: Omit<BloonioChatOptions, 'settings'> = {}): BloonioChat {
    return new BloonioChat({ ...o, settings: new ChatRelaySettings() });
  }

  /** `chat.on('ticket-created', (event) => …)` registers a handler after construction. */
  on<K extends ChatKey>(event: K, handler: HandlerOf<K>): this {
    this.callbacks.on(chatEventType(chatEventName(event)), handler as CallbackHandler<ChatEventType>);
    return this;
  }

  koa(): DualMiddleware {
    return this.callbacks.middleware();
  }

  express(): DualMiddleware {
    return this.callbacks.middleware();
  }
}
