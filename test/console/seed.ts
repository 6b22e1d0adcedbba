/** Console accounts made directly in the store, for suites that need many sessions quickly. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AccountModel, accountIdOf } from '../../models/console/account.js';
import { startSession } from '../../models/console/sessions.js';
import { createWorkspace, mutateWorkspace, type Member } from '../../models/console/workspace.js';
import type { Config } from '../../platform/config.js';
import { hashPassword } from '../../platform/passwords.js';

/**
 * An active account made directly in the store (no mail round trip), with a live session; optionally
 * a member of `workspace` with `role`, else the owner of a new workspace. For suites that need many
 * sessions quickly (the generated security suite).
 */
export async function seedConsoleAccount(
  deps: { config: Config; redis: Redis },
  opts: { workspaceId?: string; role?: 'owner' | 'admin' | 'member' } = {},
): Promise<{ accountId: string; email: string; workspaceId: string; session: () => Promise<string> }> {
  const email = `seed-${randomBytes(4).toString('hex')}@example.com`;
  const accountId = accountIdOf(email);
  await AccountModel.create({
    _id: accountId,
    email,
    display_name: 'Seed',
    status: 'active',
    password_hash: await hashPassword('seeded account password'),
  });
  let workspaceId = opts.workspaceId;
  if (workspaceId) {
    await AccountModel.updateOne({ _id: accountId }, { $addToSet: { workspace_ids: workspaceId } });
    await mutateWorkspace(workspaceId, (ws) => ({
      members: [
        ...(ws.members as Member[]),
        { account_id: accountId, email, display_name: 'Seed', role: opts.role ?? 'member', joined_at: new Date() },
      ],
    }));
  } else workspaceId = (await createWorkspace('Seeded', { accountId, email, displayName: 'Seed' }))._id;
  return {
    accountId,
    email,
    workspaceId,
    session: async () => (await startSession(deps, accountId, { ip: '127.0.0.1', userAgent: 'suite' })).token,
  };
}
