/** The Chat Relay's routes, appended once to the route list in api/routes.ts. */
import type { AnyRoute } from '../route.js';
import { createConversation, escalateConversation, fetchConversation, fetchTicket, sendChatMessage } from './conversations.js';
import { chatOperatorRoutes } from './operator.js';
import { deprovisionOperatorRoute, mintOperatorTokenRoute, provisionOperatorRoute } from './operators.js';
import { mintVisitorTokenRoute } from './visitor-tokens.js';
import { operatorSocketTicket, visitorSocketTicket } from './socket-tickets.js';
import { chatVisitorRoutes } from './visitor.js';

export const chatRoutes: AnyRoute[] = [
  ...chatVisitorRoutes,
  provisionOperatorRoute,
  deprovisionOperatorRoute,
  mintOperatorTokenRoute,
  mintVisitorTokenRoute,
  createConversation,
  sendChatMessage,
  escalateConversation,
  fetchConversation,
  fetchTicket,
  ...chatOperatorRoutes,
  visitorSocketTicket,
  operatorSocketTicket,
];
