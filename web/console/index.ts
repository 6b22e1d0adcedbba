/**
 * console.js: the self-service console (docs/contract.md §3.5) served by the relay at /console. It mounts
 * itself into the page body; everything it calls is /api/v1/console/* on the same origin.
 */
import { App } from './app.js';
import { noWorkspaceView, securityView } from './account.js';
import { authScreen } from './auth.js';
import { invitationScreen } from './invitation.js';
import { CONSOLE_CSS } from './styles.js';
import { auditView } from './audit.js';
import { membersView } from './members.js';
import { tenantsView } from './tenants.js';

function start(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CONSOLE_CSS);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const root = document.createElement('div');
  root.id = 'console';
  document.body.appendChild(root);
  const app = new App(root, location.origin, {
    auth: authScreen,
    invitation: invitationScreen,
    views: { tenants: tenantsView, members: membersView, audit: auditView, security: securityView, none: noWorkspaceView },
  });
  void app.start();
}

if (document.body) start();
else document.addEventListener('DOMContentLoaded', start, { once: true });
