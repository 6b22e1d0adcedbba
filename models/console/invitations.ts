/**
 * Invitations to a workspace, by email, with an expiring single-use token.
 *
 * The token is opaque random (256 bits), not a signed token of platform/tokens.ts: an invitation
 * must be revocable and usable once, which needs stored state anyway, and a stored hash is all that
 * state needs. Its form, `ivt_<workspace id>.<secret>`, names the workspace, so finding the
 * invitation is one `_id` lookup of the workspace; only SHA-256(secret) is stored, inside the
 * workspace's invitation list, and compared in constant time. Accepting removes the invitation and
 * adds the member in the same compare-and-set write (models/console/workspace.ts): it works once.
 * An invitation is bound to its address: only an account with that address can accept it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError, notFound } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { AccountModel, normaliseEmail, type AccountDoc } from './account.js';
import type { FlowDeps } from '../platform/deps.js';
import { exposeCodes, queueMail } from './mail.js';
import {
  MAX_INVITATIONS,
  findWorkspace,
  hasRole,
  memberOf,
  mutateWorkspace,
  type Invitation,
  type Member,
  type Role,
  type WorkspaceDoc,
} from './workspace.js';

const TOKEN = /^ivt_(ws_[0-9a-z]{26})\.([A-Za-z0-9_-]{43})$/;
const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

function parseToken(token: string): { workspaceId: string; hash: Buffer } {
  const m = TOKEN.exec(token);
  if (!m?.[1] || !m[2]) throw new DomainError('GONE', 'This invitation link is not valid (or no longer): ask for a new one.');
  return { workspaceId: m[1], hash: Buffer.from(hashOf(m[2]), 'hex') };
}

const matches = (inv: Invitation, hash: Buffer) => {
  const stored = Buffer.from(inv.token_hash, 'hex');
  return stored.length === hash.length && timingSafeEqual(stored, hash);
};

/** The invitation a token names, with its workspace; 410 when unknown, used or revoked, 410 EXPIRED when late. */
export async function findInvitation(token: string): Promise<{ ws: WorkspaceDoc; inv: Invitation }> {
  const { workspaceId, hash } = parseToken(token);
  const ws = await findWorkspace(workspaceId);
  const inv = ws && (ws.invitations as Invitation[]).find((i) => matches(i, hash));
  if (!ws || !inv) throw new DomainError('GONE', 'This invitation is no longer valid (used, revoked or replaced): ask for a new one.');
  if (inv.expires_at.getTime() <= Date.now()) throw new DomainError('EXPIRED', 'This invitation has expired: ask for a new one.');
  return { ws, inv };
}

type Deps = Pick<FlowDeps, 'config' | 'redis' | 'producer'>;
type Locale = 'fr' | 'en';

export type Inviter = { account: AccountDoc; role: Role };

/** Who may invite whom: an admin invites admins and members; only an owner invites an owner. */
export async function createInvitation(
  deps: Deps,
  workspaceId: string,
  inviter: Inviter,
  input: { email: string; role: Role; locale: Locale },
  baseUrl: string,
  ttlS: number,
): Promise<{ invitation: Invitation; devLink?: string }> {
  const email = normaliseEmail(input.email);
  if (!hasRole(inviter.role, input.role) || (input.role === 'owner' && inviter.role !== 'owner'))
    throw new DomainError('FORBIDDEN', `Only an owner can invite an ${input.role}.`);
  const secret = randomBytes(32).toString('base64url');
  const invitation: Invitation = {
    invitation_id: newId('inv'),
    email,
    role: input.role,
    token_hash: hashOf(secret),
    expires_at: new Date(Date.now() + ttlS * 1000),
    invited_by: inviter.account._id,
    created_at: new Date(),
  };
  const ws = await mutateWorkspace(workspaceId, (w) => {
    if ((w.members as Member[]).some((m) => m.email === email))
      throw new DomainError('CONFLICT', 'This address is already a member of the workspace.');
    // A new invitation to the same address replaces the previous one (its link stops working).
    const others = (w.invitations as Invitation[]).filter((i) => i.email !== email && i.expires_at.getTime() > Date.now());
    if (others.length >= MAX_INVITATIONS)
      throw new DomainError('CONFLICT', `At most ${MAX_INVITATIONS} pending invitations per workspace.`);
    return { invitations: [...others, invitation] };
  });
  const link = `${baseUrl}/console#invite=${`ivt_${workspaceId}.${secret}`}`;
  await queueMail(
    deps,
    {
      to: email,
      kind: 'invitation',
      locale: input.locale,
      vars: { link, workspace: ws.name, inviter: inviter.account.display_name, role: input.role },
    },
    Math.min(ttlS, 86_400),
  );
  return { invitation, ...(exposeCodes(deps.config) ? { devLink: link } : {}) };
}

export async function revokeInvitation(workspaceId: string, invitationId: string): Promise<Invitation> {
  let revoked: Invitation | undefined;
  await mutateWorkspace(workspaceId, (w) => {
    revoked = (w.invitations as Invitation[]).find((i) => i.invitation_id === invitationId);
    if (!revoked) throw notFound('Invitation');
    return { invitations: (w.invitations as Invitation[]).filter((i) => i.invitation_id !== invitationId) };
  });
  return revoked as Invitation;
}

/** Joins the account to the invitation's workspace with its role; the invitation is spent in the same write. */
export async function acceptInvitation(account: AccountDoc, token: string): Promise<{ ws: WorkspaceDoc; role: Role }> {
  const { ws: found, inv: seen } = await findInvitation(token);
  if (seen.email !== account.email)
    throw new DomainError('FORBIDDEN', `This invitation is for ${seen.email}: sign in with that address to accept it.`);
  const { hash } = parseToken(token);
  // Listed first, joined second: see AccountDoc.workspace_ids.
  await AccountModel.updateOne({ _id: account._id }, { $addToSet: { workspace_ids: found._id } });
  let role: Role = seen.role;
  const ws = await mutateWorkspace(found._id, (w) => {
    const inv = (w.invitations as Invitation[]).find((i) => matches(i, hash));
    if (!inv) throw new DomainError('GONE', 'This invitation was just used or revoked.');
    if (inv.expires_at.getTime() <= Date.now()) throw new DomainError('EXPIRED', 'This invitation has expired: ask for a new one.');
    const invitations = (w.invitations as Invitation[]).filter((i) => i !== inv);
    const existing = memberOf(w, account._id);
    if (existing) {
      role = existing.role;
      return { invitations };
    }
    role = inv.role;
    const member: Member = {
      account_id: account._id,
      email: account.email,
      display_name: account.display_name,
      role: inv.role,
      joined_at: new Date(),
    };
    return { invitations, members: [...(w.members as Member[]), member] };
  });
  return { ws, role };
}
