/**
 * The principals: who a request is from, once its route's security kind has authenticated it.
 * (Kept apart from the middlewares so api/context.ts can name them without an import cycle.)
 */
import type { DeviceDoc } from '../../models/auth/device.js';
import type { OperatorRecord } from '../../models/chat/operator-record.js';
import type { VisitorSessionDoc } from '../../models/chat/visitor-session.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { TokenClaims } from '../../platform/tokens.js';
import type { AccountDoc } from '../../models/console/account.js';
import type { Role, WorkspaceDoc } from '../../models/console/workspace.js';

export type PrincipalOf = {
  /** The platform operator, by X-Admin-Key. */
  admin: { kind: 'admin' };
  /** A tenant's backend, by HMAC #1. */
  hmac: { kind: 'hmac'; tenant: TenantEntry };
  /** A paired device: its session token and a signature by its own key. */
  device: { kind: 'device'; device: DeviceDoc; tenant: TenantEntry };
  /** A device being paired: a pairing proof, and a signature by the key it registers. */
  'pairing-proof': { kind: 'pairing-proof'; proof: TokenClaims<'pairing'>; tenant: TenantEntry };
  /** A chat operator, by an operator token minted by the tenant's backend. */
  operator: { kind: 'operator'; operator: OperatorRecord; tenant: TenantEntry; role: string; expiresAt: number };
  /** A chat visitor, by an unexpired visitor token of a live session. */
  visitor: { kind: 'visitor'; claims: TokenClaims<'visitor'>; session: VisitorSessionDoc; tenant: TenantEntry };
  /** A chat visitor refreshing its token: the same checks, but the token may have expired. */
  'visitor-refresh': { kind: 'visitor-refresh'; claims: TokenClaims<'visitor'>; session: VisitorSessionDoc; tenant: TenantEntry };
  /**
   * A console user (docs/contract.md §3.5), by a console token of a live session of an active account; on a
   * route with a `consoleRole`, also its membership of the workspace named by `?workspace_id=`.
   */
  console: {
    kind: 'console';
    accountId: string;
    sessionId: string;
    account: AccountDoc;
    workspace: { doc: WorkspaceDoc; role: Role } | null;
    /** When the session last proved the password or a TOTP code (ms): sign-in or re-authentication. */
    authAt: number;
  };
  /** Public: no credential (each such route does its own origin or key check). */
  none: { kind: 'none' };
};

export type Security = keyof PrincipalOf;
export type Principal = PrincipalOf[Security];
export const SECURITY_KINDS = [
  'admin',
  'hmac',
  'device',
  'pairing-proof',
  'operator',
  'visitor',
  'visitor-refresh',
  'console',
  'none',
] as const satisfies readonly Security[];
