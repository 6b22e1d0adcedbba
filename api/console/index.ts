/** Every console route (docs/contract.md §3.5), in one list for api/routes.ts. */
import { consolePublicRoutes } from './accounts.js';
import { consoleAccountRoutes } from './me.js';
import { consoleOperatorRoutes } from './operators.js';
import { consoleTenantRoutes } from './tenants.js';
import { consoleWorkspaceRoutes } from './workspaces.js';

export const consoleRoutes = [
  ...consolePublicRoutes,
  ...consoleAccountRoutes,
  ...consoleWorkspaceRoutes,
  ...consoleTenantRoutes,
  ...consoleOperatorRoutes,
];
