/** The Chat Relay's routes, appended once to the route list in ./index.ts. */
import type { AnyRoute } from '../route.js';
import { chatBackendRoutes } from './backend.js';
import { chatOperatorRoutes } from './operator.js';
import { chatVisitorRoutes } from './visitor.js';

export const chatRoutes: AnyRoute[] = [...chatVisitorRoutes, ...chatBackendRoutes, ...chatOperatorRoutes];
