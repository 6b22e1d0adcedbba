/** The Chat Relay's routes, appended once to the route list in ./index.ts. */
import type { AnyRoute } from '../route.js';
import { chatBackendRoutes } from './chat-backend.js';
import { chatOperatorRoutes } from './chat-operator.js';
import { chatVisitorRoutes } from './chat-visitor.js';

export const chatRoutes: AnyRoute[] = [...chatVisitorRoutes, ...chatBackendRoutes, ...chatOperatorRoutes];
