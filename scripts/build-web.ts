/**
 * Builds the browser bundles (web/ → dist/web/, git-ignored, never committed) with esbuild:
 *
 *   widget.js  the visitor widget tenants embed with one script tag (web/widget/)
 *   inbox.js   the operator inbox, BloonioInbox.mount() and the /inbox page (web/inbox/)
 *   console.js the self-service console, the /console page (web/console/)
 *
 * Each bundle is written twice: under its stable name (tenants embed `$BASE_URL/widget.js`, served
 * with a short cache and an ETag) and under a content-hashed name (`widget.<hash>.js`, served
 * immutable for a year); manifest.json maps one to the other for api/chat/web-assets.ts. Older hashed
 * files are kept, so a page loaded before a deploy still finds the bundle it names.
 *
 * Budget: widget.js must stay ≤ 25 KB gzipped (a heavy widget is the first complaint about
 * Chatwoot's, ~170 KiB). The build prints the figure and fails above it.
 *
 * Why no UI framework in the widget: it is one launcher, one panel and a message list whose updates
 * are appends and a few text changes. Hand-written DOM code (web/shared/dom.ts: createElement and
 * textContent, never innerHTML, so it is also safe under Trusted Types) costs nothing at run time;
 * Preact (~4.5 KB gzipped with hooks) or Lit (~6 KB) would take a fifth to a quarter of the budget for
 * a re-render model the widget does not need.
 *
 * The inbox is the other case: lists and a conversation that change live from the socket while the
 * operator types, so it is drawn with Preact's keyed rendering (web/inbox/view.ts), which keeps the
 * reply box, its caret and the focused row across redraws; Preact builds nodes with createElement
 * and text nodes too, so the /inbox page's Trusted Types CSP holds. The console's screens are redrawn
 * whole on navigation and keep the plain DOM helpers (web/console/forms.ts).
 *
 * Run by `npm start` (scripts/dev.ts), `npm test` (scripts/test.sh), `npm run build`, and the browser
 * tests; alone: `npx tsx scripts/build-web.ts`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEB_OUT = `${ROOT}dist/web/`;
export const WIDGET_BUDGET_GZIP_BYTES = 25 * 1024;

export type BuiltBundle = { name: 'widget' | 'inbox' | 'console'; file: string; hashed: string; bytes: number; gzip: number; hash: string };

const ENTRIES = { widget: 'web/widget/index.ts', inbox: 'web/inbox/index.ts', console: 'web/console/index.ts' } as const;

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Builds both bundles; throws when widget.js is over its gzipped budget (nothing is written then). */
export async function buildWeb(opts: { quiet?: boolean } = {}): Promise<BuiltBundle[]> {
  const out: BuiltBundle[] = [];
  const files: { path: string; contents: Uint8Array }[] = [];
  for (const [name, entry] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    const r = await build({
      entryPoints: [`${ROOT}${entry}`],
      bundle: true,
      minify: true,
      format: 'iife',
      // Evergreen browsers of the last few years: constructed stylesheets need Chrome 73 / Safari 16.4 (older ones fall back).
      target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
      legalComments: 'none',
      charset: 'utf8',
      write: false,
      logLevel: 'silent',
    });
    const contents = r.outputFiles[0]?.contents;
    if (!contents) throw new Error(`esbuild produced nothing for ${entry}`);
    const hash = createHash('sha256').update(contents).digest('hex').slice(0, 16);
    const b: BuiltBundle = {
      name,
      file: `${name}.js`,
      hashed: `${name}.${hash}.js`,
      bytes: contents.length,
      gzip: gzipSync(contents, { level: 9 }).length,
      hash,
    };
    out.push(b);
    files.push({ path: b.file, contents }, { path: b.hashed, contents });
  }
  const widget = out.find((b) => b.name === 'widget');
  if (!opts.quiet)
    for (const b of out)
      console.log(
        `web: ${b.file} ${kb(b.bytes)}, ${kb(b.gzip)} gzipped${b.name === 'widget' ? ` (budget ${kb(WIDGET_BUDGET_GZIP_BYTES)})` : ''}`,
      );
  if (widget && widget.gzip > WIDGET_BUDGET_GZIP_BYTES)
    throw new Error(`widget.js is ${kb(widget.gzip)} gzipped, over its ${kb(WIDGET_BUDGET_GZIP_BYTES)} budget`);
  mkdirSync(WEB_OUT, { recursive: true });
  for (const f of files) writeFileSync(`${WEB_OUT}${f.path}`, f.contents);
  // The manifest last: a server reading it always finds the files it names.
  writeFileSync(`${WEB_OUT}manifest.json`, JSON.stringify(Object.fromEntries(out.map((b) => [b.name, b])), null, 2));
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildWeb().catch((err: unknown) => {
    console.error(`web build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
