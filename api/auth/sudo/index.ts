/** The sudo routes (docs/contract.md §2.4), for api/auth/index.ts. */
import type { AnyRoute } from '../../route.js';
import { sudoDispatch } from './dispatch.js';
import { cancelSudoEvent, fetchSudoEvent, submitResponse } from './events.js';
import { createGrant, fetchGrants, revokeGrant } from './grants.js';
import { createGroup, deleteGroup, fetchGroups, updateGroup } from './groups.js';

export const sudoRoutes: AnyRoute[] = [
  sudoDispatch,
  fetchSudoEvent,
  cancelSudoEvent,
  submitResponse,
  createGroup,
  updateGroup,
  fetchGroups,
  deleteGroup,
  createGrant,
  revokeGrant,
  fetchGrants,
];
