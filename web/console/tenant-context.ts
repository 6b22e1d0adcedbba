/** What the cards of a tenant's console page share (tenant-page.ts): the page's frame and the status pill. */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import type { NewSecret } from './secret-once.js';
import type { StringKey } from './strings.js';

export type TenantQuery = { workspace_id: string; tenant_id: string };

/** What every card of the page needs: the app, the query naming the tenant, the caller's power, and how to redraw. */
export type TenantPage = {
  app: App;
  q: TenantQuery;
  admin: boolean;
  reload: () => Promise<void>;
  /** Replaces the whole page with the secret-once screen (a new or rotated secret). */
  showSecret: (s: NewSecret) => void;
};

export const statusPill = (app: App, status: string) =>
  h('span', { class: `pill ${status}` }, app.t(`status_${status}` as StringKey) || status);
