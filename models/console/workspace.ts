/**
 * Workspaces: a team that owns tenants (and through them operators and receivers), members and
 * invitations (docs/contract.md §3.5). Members and pending invitations are kept inside the workspace document,
 * and every change to them is one compare-and-set on the document's `rev`:
 *   - the membership check of every console request is one `_id` lookup (FerretDB indexes nothing else);
 *   - rules spanning members hold under concurrency: "the last owner cannot leave or be removed" is
 *     checked on the very list that is written, so two owners removing each other at once cannot
 *     both succeed (one write loses the rev race, retries, and sees it would leave no owner);
 *   - accepting an invitation removes it and adds the member in one write: single use by construction.
 * A workspace holds at most MAX_MEMBERS members, MAX_INVITATIONS pending invitations, and
 * CONSOLE_MAX_TENANTS_PER_WORKSPACE tenants (api/console/tenants.ts).
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { DomainError, notFound } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { baseSchemaOptions } from '../platform/common.js';
import { AccountModel } from './account.js';

export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
/** A role includes every role ranked below it. */
export const ROLE_RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };
export const hasRole = (role: Role, needed: Role): boolean => ROLE_RANK[role] >= ROLE_RANK[needed];

export const MAX_MEMBERS = 200;
export const MAX_INVITATIONS = 100;

const memberSchema = new Schema(
  {
    account_id: { type: String, required: true },
    email: { type: String, required: true },
    display_name: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    joined_at: { type: Date, required: true },
  },
  { _id: false },
);

const invitationSchema = new Schema(
  {
    invitation_id: { type: String, required: true },
    email: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    /** SHA-256 of the token's secret part (models/console/invitations.ts); the token itself is only in the mail. */
    token_hash: { type: String, required: true },
    expires_at: { type: Date, required: true },
    invited_by: { type: String, required: true },
    created_at: { type: Date, required: true },
  },
  { _id: false },
);

const workspaceSchema = new Schema(
  {
    _id: { type: String, required: true }, // ws_…
    name: { type: String, required: true },
    members: { type: [memberSchema], default: [] },
    invitations: { type: [invitationSchema], default: [] },
    /** The workspace's tenants (each tenant also names its workspace: tenant.workspace_id, the truth for access). */
    tenant_ids: { type: [String], default: [] },
    /** Bumped by every change of members or invitations: the compare-and-set guard. */
    rev: { type: Number, required: true, default: 0 },
    audit_seq: { type: Number, default: 0 },
    /** The newest audit entry's hash: the head of the tamper-evident chain (models/console/audit.ts). */
    audit_head: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'console_workspaces' },
);

export type WorkspaceDoc = InferSchemaType<typeof workspaceSchema> & { _id: string; created_at: Date; updated_at: Date };
export type Member = InferSchemaType<typeof memberSchema> & { role: Role };
export type Invitation = InferSchemaType<typeof invitationSchema> & { role: Role };
export const WorkspaceModel = model('ConsoleWorkspace', workspaceSchema);

export function findWorkspace(workspaceId: string): Promise<WorkspaceDoc | null> {
  return WorkspaceModel.findById(workspaceId).lean<WorkspaceDoc>();
}

export const memberOf = (ws: WorkspaceDoc, accountId: string): Member | undefined =>
  (ws.members as Member[]).find((m) => m.account_id === accountId);

export const ownerCount = (members: Member[]): number => members.filter((m) => m.role === 'owner').length;

type Person = { accountId: string; email: string; displayName: string };

/** A new workspace with its creator as owner (the account lists it first: see AccountDoc.workspace_ids). */
export async function createWorkspace(name: string, owner: Person): Promise<WorkspaceDoc> {
  const id = newId('ws');
  await AccountModel.updateOne({ _id: owner.accountId }, { $addToSet: { workspace_ids: id } });
  const doc = await WorkspaceModel.create({
    _id: id,
    name,
    members: [{ account_id: owner.accountId, email: owner.email, display_name: owner.displayName, role: 'owner', joined_at: new Date() }],
  });
  return doc.toObject() as WorkspaceDoc;
}

export type Change = { members?: Member[]; invitations?: Invitation[]; name?: string };

/**
 * Applies `change` to the current document under its `rev` (retried when another write got there
 * first). `change` sees the fresh document each time and may throw a DomainError to refuse.
 */
export async function mutateWorkspace(workspaceId: string, change: (ws: WorkspaceDoc) => Change): Promise<WorkspaceDoc> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const ws = await findWorkspace(workspaceId);
    if (!ws) throw notFound('Workspace');
    const set = change(ws);
    const next = await WorkspaceModel.findOneAndUpdate(
      { _id: workspaceId, rev: ws.rev },
      { $set: { ...set, rev: ws.rev + 1 } },
      { new: true },
    ).lean<WorkspaceDoc>();
    if (next) return next;
  }
  throw new DomainError('STORE_UNAVAILABLE', 'The workspace is being changed by many requests at once; try again.', [], 1);
}

/** Refuses a member list without an owner (409). */
export function keepAnOwner(members: Member[]): Member[] {
  if (ownerCount(members) === 0)
    throw new DomainError('CONFLICT', 'A workspace needs at least one owner: make another member owner first.');
  return members;
}

export async function setMemberRole(workspaceId: string, accountId: string, role: Role, actorRole: Role): Promise<WorkspaceDoc> {
  return mutateWorkspace(workspaceId, (ws) => {
    const m = memberOf(ws, accountId);
    if (!m) throw notFound('Member');
    // Only an owner makes or unmakes owners.
    if ((m.role === 'owner' || role === 'owner') && actorRole !== 'owner')
      throw new DomainError('FORBIDDEN', 'Only an owner can give or take the owner role.');
    return { members: keepAnOwner((ws.members as Member[]).map((x) => (x.account_id === accountId ? { ...x, role } : x))) };
  });
}

/** Removes a member (or lets one leave); the account forgets the workspace after. */
export async function removeMember(workspaceId: string, accountId: string, actorRole: Role | 'self'): Promise<WorkspaceDoc> {
  const ws = await mutateWorkspace(workspaceId, (w) => {
    const m = memberOf(w, accountId);
    if (!m) throw notFound('Member');
    if (actorRole !== 'self' && m.role === 'owner' && actorRole !== 'owner')
      throw new DomainError('FORBIDDEN', 'Only an owner can remove an owner.');
    return { members: keepAnOwner((w.members as Member[]).filter((x) => x.account_id !== accountId)) };
  });
  await AccountModel.updateOne({ _id: accountId }, { $pull: { workspace_ids: workspaceId } });
  return ws;
}

export async function renameWorkspace(workspaceId: string, name: string): Promise<WorkspaceDoc> {
  return mutateWorkspace(workspaceId, () => ({ name }));
}

/** Lists the tenant under its workspace (the tenant document itself already names the workspace). */
export async function addTenantToWorkspace(workspaceId: string, tenantId: string): Promise<void> {
  await WorkspaceModel.updateOne({ _id: workspaceId }, { $addToSet: { tenant_ids: tenantId } });
}

/** The workspaces an account is a member of, with its role in each (ids it lists but no longer belongs to are skipped). */
export async function workspacesOf(account: { _id: string; workspace_ids?: string[] | null }): Promise<{ ws: WorkspaceDoc; role: Role }[]> {
  const docs = await Promise.all((account.workspace_ids ?? []).map((id) => findWorkspace(id)));
  const out: { ws: WorkspaceDoc; role: Role }[] = [];
  for (const ws of docs) {
    const m = ws && memberOf(ws, account._id);
    if (ws && m) out.push({ ws, role: m.role });
  }
  return out;
}
