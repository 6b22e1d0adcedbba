/**
 * The browser tests' world: the relay for real (an in-process API for provisioning, and separate
 * `web` processes serving the widget and the inbox, so every socket crosses the Redis fan-out and one
 * process can be taken down and back on its port), Debian's Chromium, and a tenant's web site (a
 * loopback server of the test's own, startHostSite), so a tenant's page can
 * carry whatever CSS or Content-Security-Policy a test needs while everything it loads from the relay
 * is real.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Locator, Page } from 'playwright-core';
import { buildWeb, type BuiltBundle } from '../../scripts/build-web.js';
import { launchBrowser } from './browser.js';
import { type TenantCreds } from './client.js';
import { spawnApi, startRelay, type Child, type Relay } from './harness.js';

export const ARTIFACTS = new URL('../../.data/artifacts/web/', import.meta.url).pathname;

const require = createRequire(import.meta.url);
export const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export type WebWorld = {
  relay: Relay;
  /** Serves the visitors (widget.js, the widget socket, the demo shop page). */
  visitorApi: Child;
  /** Serves the operators (inbox, operator routes and socket). */
  operatorApi: Child;
  browser: Browser;
  site: HostSite;
  bundles: BuiltBundle[];
  /** Takes the visitors' API process down (SIGKILL: a crash), runs `between`, then brings it back on the same port. */
  restartVisitorApi: (between: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
};

export async function startWebWorld(name: string, extraEnv: Record<string, string> = {}): Promise<WebWorld> {
  const bundles = await buildWeb(); // prints the sizes (and fails over budget) in the test output
  const relay = await startRelay(name, { RELAY_DEV_PAGES: 'true', ...extraEnv });
  let visitorApi = await spawnApi(relay.env);
  const operatorApi = await spawnApi(relay.env);
  const browser = await launchBrowser();
  const site = await startHostSite();
  mkdirSync(ARTIFACTS, { recursive: true });
  const world: WebWorld = {
    relay,
    visitorApi,
    operatorApi,
    browser,
    site,
    bundles,
    restartVisitorApi: async (between) => {
      const port = Number(new URL(visitorApi.url).port);
      await visitorApi.kill('SIGKILL');
      await between();
      visitorApi = await spawnApi(relay.env, { port });
      world.visitorApi = visitorApi;
    },
    stop: async () => {
      await browser?.close();
      await site?.close();
      await Promise.all([world.visitorApi?.kill(), operatorApi?.kill()]);
      await relay?.stop();
    },
  };
  return world;
}

export type HostPage = { html: string; headers?: Record<string, string> };

/**
 * A tenant's web site: a real HTTP server on loopback serving the pages a test registers. Its
 * `origin` (http://127.0.0.1:port) is the one tenants allow; `otherOrigin` (http://localhost:port,
 * the same server under another name) is an origin no tenant allows. Real loopback servers rather
 * than Playwright-fulfilled made-up hosts: Chromium refuses requests from a "public" page to a
 * loopback relay (Private Network Access), which is not what these tests are about.
 */
export type HostSite = { origin: string; otherOrigin: string; page: (path: string, p: HostPage) => void; close: () => Promise<void> };

export async function startHostSite(): Promise<HostSite> {
  const pages = new Map<string, HostPage>();
  const server = http.createServer((req, res) => {
    const p = pages.get((req.url ?? '/').split('?')[0] ?? '/');
    if (!p) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(p.headers ?? {}) });
    res.end(p.html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    otherOrigin: `http://localhost:${port}`,
    page: (path, p) => void pages.set(path, p),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export function widgetTag(relayUrl: string, creds: Pick<TenantCreds, 'tenantId' | 'widgetKey'>, extra = ''): string {
  return `<script src="${relayUrl}/widget.js" data-tenant-id="${creds.tenantId}" data-widget-key="${creds.widgetKey}" ${extra} async></script>`;
}

export function shopPage(body: string, head = '', lang = 'fr'): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Shop</title>${head}</head><body><h1>Ma boutique</h1><p id="host-text">Du contenu de la page hôte.</p>${body}</body></html>`;
}

/** Screenshots kept as test artifacts (.data/artifacts/web/, git-ignored). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png` });
}

/** Locators inside a widget's shadow root (Playwright's CSS engine pierces open shadow roots). */
export function widget(page: Page, tenantId?: string) {
  const host = page.locator(tenantId ? `bloonio-widget[data-tenant-id="${tenantId}"]` : 'bloonio-widget');
  return {
    host,
    launcher: host.locator('.launcher'),
    panel: host.locator('.panel'),
    input: host.locator('textarea'),
    banner: host.locator('.banner'),
    badge: host.locator('.badge'),
    typing: host.locator('.typing'),
    bubbles: host.locator('.log .bubble'),
    notes: host.locator('.log .note'),
    metas: host.locator('.log .msg.me .meta'),
    /** Texts of the message bubbles, in page order. */
    texts: () => host.locator('.log .bubble').allTextContents(),
  };
}

export function inbox(page: Page) {
  const host = page.locator('bloonio-inbox');
  return {
    host,
    banner: host.locator('.banner'),
    queueTab: host.locator('.tab').nth(0),
    mineTab: host.locator('.tab').nth(1),
    items: host.locator('.list .item'),
    item: (text: string) => host.locator('.list .item', { hasText: text }),
    button: (name: RegExp | string) => host.locator('.actions button', { hasText: name }),
    textarea: host.locator('.compose textarea'),
    bubbles: host.locator('.log .bubble'),
    metas: host.locator('.log .meta'),
    typing: host.locator('.main .typing'),
    ticket: host.locator('.ticket-box'),
    status: host.locator('.conv-head .pill'),
    texts: () => host.locator('.log .bubble').allTextContents(),
  };
}

/** Records desktop notifications instead of showing them (the inbox calls `new Notification`). */
export const RECORD_NOTIFICATIONS = `
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, opts) { window.__notifications.push({ title, body: opts && opts.body }); this.onclick = null; }
    close() {}
  };`;

/** Collects CSP violations the page reports. */
export const RECORD_CSP = `
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

export type AxeResult = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };

/** Runs axe-core in the page (shadow roots included); returns the serious and critical violations, printing every one found. */
export async function axeCheck(page: Page, label: string): Promise<AxeResult[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))",
  )) as AxeResult[];
  console.log(`      axe (${label}): ${violations.length ? violations.map((v) => `${v.id} [${v.impact}]`).join(', ') : 'no violations'}`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function visible(l: Locator, ms = 10_000): Promise<void> {
  await l.first().waitFor({ state: 'visible', timeout: ms });
}
