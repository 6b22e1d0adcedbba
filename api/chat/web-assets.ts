/**
 * The browser pieces of the Chat Relay (docs/contract.md §3.5b), served from the bundles scripts/build-web.ts
 * wrote to dist/web/:
 *
 *   GET /widget.js, /inbox.js          stable names (tenants embed them): a short cache
 *                                      (5 min, then revalidated with the ETag: a 304 costs no body)
 *   GET /assets/<name>.<hash>.js       the same bytes under their content hash: immutable, 1 year
 *   GET /inbox                         the operator inbox page; its token is in the URL fragment
 *                                      (#token=…), which browsers never send, so it is in no log
 *   GET /console                       the self-service console page (api/console/pages.ts)
 *   GET /dev/…                         demo pages, only with RELAY_DEV_PAGES=true (api/chat/dev-pages.ts)
 *
 * Why widget.js is the whole bundle rather than a loader of the hashed file: a loader would add a
 * round trip before the launcher can render (the budget is 100 ms after the script loads) for a
 * 10 KB gzipped file that revalidates with a 304. Pages that want an immutable URL can use the
 * hashed name directly (it is in dist/web/manifest.json and in the X-Bloonio-Asset header).
 *
 * Scripts are sent gzipped when the browser accepts it, with CORP cross-origin (host pages with
 * COEP can load them) and nosniff. Pages carry a strict Content-Security-Policy: no inline script
 * or style at all (the bundles style themselves with constructed stylesheets).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Middleware } from 'koa';
import type { AppContext, AppDeps, AppState } from '../context.js';
import { devPage } from './dev-pages.js';
import { escapeHtml, sendPage } from './pages.js';
import { consolePage } from '../console/pages.js';

type Asset = { body: Buffer; gzip: Buffer; hash: string; hashed: string };
type Manifest = Record<string, { file: string; hashed: string; hash: string }>;

/** The project root (the first folder up with a package.json): the same from api/ (tsx) and dist/api/ (built). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const WEB_DIR = join(projectRoot(), 'dist', 'web');
const SHORT_CACHE = 'public, max-age=300, stale-while-revalidate=86400';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const HASHED = /^\/assets\/(widget|inbox|console)\.([0-9a-f]{16})\.js$/;

class Bundles {
  private current = new Map<string, Asset>();
  private byHashed = new Map<string, Asset>();
  private manifestMtime = 0;
  private checkedAt = 0;

  constructor(private readonly dir: string) {}

  /** Re-reads the manifest when it changed (checked at most every 2 s: a rebuild during `npm start` is picked up). */
  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 2000 && this.current.size) return;
    this.checkedAt = now;
    let mtime: number;
    try {
      mtime = statSync(join(this.dir, 'manifest.json')).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.manifestMtime) return;
    const manifest = JSON.parse(readFileSync(join(this.dir, 'manifest.json'), 'utf8')) as Manifest;
    const next = new Map<string, Asset>();
    for (const [name, m] of Object.entries(manifest)) {
      const body = readFileSync(join(this.dir, m.file));
      const a = { body, gzip: gzipSync(body, { level: 9 }), hash: m.hash, hashed: m.hashed };
      next.set(name, a);
      this.byHashed.set(m.hashed, a);
    }
    this.current = next;
    this.manifestMtime = mtime;
  }

  get(name: string): Asset | undefined {
    this.refresh();
    return this.current.get(name);
  }

  /** An older build's hashed file is still served (a page loaded before a deploy names it). */
  hashed(file: string): Asset | undefined {
    this.refresh();
    const known = this.byHashed.get(file);
    if (known) return known;
    const path = join(this.dir, file);
    if (!existsSync(path)) return undefined;
    const body = readFileSync(path);
    const a = { body, gzip: gzipSync(body, { level: 9 }), hash: file.split('.')[1] ?? '', hashed: file };
    if (this.byHashed.size < 100) this.byHashed.set(file, a);
    return a;
  }
}

function sendScript(ctx: AppContext, a: Asset, cache: string): void {
  ctx.status = 200;
  ctx.type = 'application/javascript; charset=utf-8';
  ctx.set('Cache-Control', cache);
  ctx.set('ETag', `"${a.hash}"`);
  ctx.set('X-Bloonio-Asset', `/assets/${a.hashed}`);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.vary('Accept-Encoding');
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = a.gzip;
  } else ctx.body = a.body;
}

function inboxPage(scriptPath: string): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Bloonio — boîte de réception</title>
<script src="${escapeHtml(scriptPath)}" data-auto-mount="body" defer></script>
</head>
<body></body>
</html>
`;
}

export function webAssets(deps: AppDeps, dir = WEB_DIR): Middleware<AppState> {
  const bundles = new Bundles(dir);
  let warned = false;
  const missing = (ctx: AppContext) => {
    ctx.status = 503;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Retry-After', '5');
    ctx.body = 'The browser bundles are not built: run `npm run build` (or `npx tsx scripts/build-web.ts`).\n';
    if (!warned) deps.logger.warn({ dir }, 'web bundles missing: run npm run build');
    warned = true;
  };
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const path = ctx.path;
    if (path === '/widget.js' || path === '/inbox.js') {
      const a = bundles.get(path.slice(1, -3));
      return a ? sendScript(ctx, a, SHORT_CACHE) : missing(ctx);
    }
    const m = HASHED.exec(path);
    if (m) {
      const a = bundles.hashed(`${m[1]}.${m[2]}.js`);
      if (!a) return next();
      return sendScript(ctx, a, IMMUTABLE);
    }
    if (path === '/inbox') {
      const a = bundles.get('inbox');
      return a ? sendPage(ctx, inboxPage(`/assets/${a.hashed}`)) : missing(ctx);
    }
    if (path === '/console') {
      const a = bundles.get('console');
      return a ? sendPage(ctx, consolePage(`/assets/${a.hashed}`)) : missing(ctx);
    }
    if (deps.config.devPages && (path === '/dev' || path.startsWith('/dev/'))) {
      if (!bundles.get('widget')) return missing(ctx);
      if (await devPage(ctx, deps)) return;
    }
    return next();
  };
}
