/**
 * RelayClient (the Auth Relay and the platform) and ChatRelayClient (the Chat Relay): one method per
 * `/relay/*` route, made from the method tables in routes/, so a method's argument and result types
 * are exactly its route's schemas. Each resolves to the answer's `data` (camelCase), with the
 * envelope's status, message and request id as `result.lastResponse`.
 */
import { AUTH_ROUTES } from './routes/auth.js';
import { CHAT_ROUTES } from './routes/chat.js';
import type { InputOf, OutputOf, RouteSpec } from './routes/spec.js';
import { SUDO_ROUTES } from './routes/sudo.js';
import { ChatRelaySettings, RelaySettings, type ChatRelaySettingsInit, type ClientSettings, type RelaySettingsInit } from './settings.js';
import { errorFromResponse } from './errors.js';
import { verifyCallback, type HeadersLike, type RawBody } from './signing.js';
import { Transport, type CallOptions, type TransportOptions, type WithResponse } from './transport.js';

/** A method of a route table: its argument is optional when every field is. */
export type Method<R extends RouteSpec> =
  Partial<InputOf<R>> extends InputOf<R>
    ? (input?: InputOf<R>, options?: CallOptions) => Promise<WithResponse<OutputOf<R>>>
    : (input: InputOf<R>, options?: CallOptions) => Promise<WithResponse<OutputOf<R>>>;

export type Methods<T extends Record<string, RouteSpec>> = { [K in keyof T]: Method<T[K]> };

/** Every route of the Auth Relay (and the platform's test callback), sudo, groups, delegation and QR login included. */
export const RELAY_CLIENT_ROUTES = { ...AUTH_ROUTES, ...SUDO_ROUTES } as const;

/** Defines one method per route on a client class's prototype. */
function install(proto: object, routes: Record<string, RouteSpec>): void {
  for (const [name, spec] of Object.entries(routes)) {
    Object.defineProperty(proto, name, {
      value: function (this: { transport: Transport }, input?: Record<string, unknown>, options?: CallOptions) {
        return this.transport.call(name, spec, input ?? {}, options);
      },
      writable: true,
      configurable: true,
    });
  }
}

abstract class BaseClient {
  readonly transport: Transport;
  constructor(
    readonly settings: ClientSettings,
    o: TransportOptions = {},
  ) {
    this.transport = new Transport(settings, o);
  }

  /** `verifyCallback` with this client's tenant (its secret, and its tenant id checked). */
  verifyCallback(headers: HeadersLike, rawBody: RawBody) {
    return verifyCallback(headers, rawBody, this.settings.tenantSecret, { tenantId: this.settings.tenantId });
  }
}

class RelayClientImpl extends BaseClient {
  declare readonly settings: RelaySettings;
  constructor(init: RelaySettingsInit | RelaySettings = {}, o: TransportOptions = {}) {
    super(init instanceof RelaySettings ? init : new RelaySettings(init), o);
  }

  static fromEnv(env: Record<string, string | undefined> = process.env, o: TransportOptions = {}): RelayClient {
    return new RelayClient(new RelaySettings({ env }), o);
  }
}
install(RelayClientImpl.prototype, RELAY_CLIENT_ROUTES);

/** The Auth Relay client: one method per route (its argument and result typed from the route's schemas). */
export type RelayClient = RelayClientImpl & Methods<typeof RELAY_CLIENT_ROUTES>;
/**
 * `new RelayClient({ baseUrl, tenantId, tenantSecret })`, `new RelayClient(settings)`, or
 * `RelayClient.fromEnv()` reading `BLOONIO_RELAY_*`.
 */
export const RelayClient = RelayClientImpl as unknown as {
  new (init?: RelaySettingsInit | RelaySettings, o?: TransportOptions): RelayClient;
  fromEnv(env?: Record<string, string | undefined>, o?: TransportOptions): RelayClient;
  readonly prototype: RelayClient;
};

class ChatRelayClientImpl extends BaseClient {
  declare readonly settings: ChatRelaySettings;
  constructor(init: ChatRelaySettingsInit | ChatRelaySettings = {}, o: TransportOptions = {}) {
    super(init instanceof ChatRelaySettings ? init : new ChatRelaySettings(init), o);
  }

  static fromEnv(env: Record<string, string | undefined> = process.env, o: TransportOptions = {}): ChatRelayClient {
    return new ChatRelayClient(new ChatRelaySettings({ env }), o);
  }

  /**
   * The URL of a chat socket with a one-time ticket in place of the token (proxies and CDNs log URLs):
   * for code that opens the visitor or operator socket itself (a bot, a native app's backend). The
   * ticket is asked with the visitor or operator token as Bearer (not HMAC-signed), lives 30 s and
   * opens one socket; `origin` is sent as `Origin` and then binds the ticket to it.
   */
  async socketUrl(o: {
    kind: 'visitor' | 'operator';
    token: string;
    tenantId?: string;
    origin?: string;
    lastSeq?: number;
  }): Promise<string> {
    const path = o.kind === 'visitor' ? '/create/socket-ticket' : '/operator/create/socket-ticket';
    const headers: Record<string, string> = { Authorization: `Bearer ${o.token}`, Accept: 'application/json' };
    if (o.tenantId) headers['X-Bloonio-Tenant-Id'] = o.tenantId;
    if (o.origin) headers.Origin = o.origin;
    const res = await fetch(`${this.settings.baseUrl}/api/v1${path}`, { method: 'POST', headers, redirect: 'error' });
    const body = (await res.json().catch(() => null)) as { data?: { ticket: string; websocket_path: string } } | null;
    if (!res.ok || !body?.data) throw errorFromResponse(res.status, Object.fromEntries(res.headers), body);
    const url = new URL(body.data.websocket_path, this.settings.baseUrl.replace(/^http/, 'ws'));
    url.searchParams.set('ticket', body.data.ticket);
    if (o.lastSeq !== undefined) url.searchParams.set('last_seq', String(o.lastSeq));
    return url.toString();
  }
}
install(ChatRelayClientImpl.prototype, CHAT_ROUTES);

/** The Chat Relay client: one method per route. */
export type ChatRelayClient = ChatRelayClientImpl & Methods<typeof CHAT_ROUTES>;
/** `new ChatRelayClient({ baseUrl, tenantId, tenantSecret })`, or `ChatRelayClient.fromEnv()` reading `BLOONIO_CHAT_*`. */
export const ChatRelayClient = ChatRelayClientImpl as unknown as {
  new (init?: ChatRelaySettingsInit | ChatRelaySettings, o?: TransportOptions): ChatRelayClient;
  fromEnv(env?: Record<string, string | undefined>, o?: TransportOptions): ChatRelayClient;
  readonly prototype: ChatRelayClient;
};

let sharedChat: ChatRelayClient | null = null;

/** The process-wide ChatRelayClient, built from `BLOONIO_CHAT_*` on first use. */
export function getChatClient(): ChatRelayClient {
  sharedChat ??= ChatRelayClient.fromEnv();
  return sharedChat;
}
