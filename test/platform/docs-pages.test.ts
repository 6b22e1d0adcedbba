/**
 * The docs that come from the code: docs/configuration.md and docs/errors.md are what their
 * generators write from the settings and error tables, and every docs link the API hands out
 * (an error code's anchor, a route's `docs`) lands on a heading that exists. Runs without services.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS, errorDocsAnchor, type ErrorCode } from '../../api/error-codes.js';
import { ROUTES } from '../../api/routes.js';
import { settingList } from '../../platform/config-settings.js';
import { configurationPage } from '../../scripts/docs/gen-config.js';
import { errorsPage } from '../../scripts/docs/gen-errors.js';
import { ROOT, githubSlug } from '../../scripts/docs/generated-page.js';

const page = (path: string): string => readFileSync(join(ROOT, 'docs', path), 'utf8');
/** The anchors of a page's headings, as GitHub and the docs site make them. */
const anchors = (markdown: string): Set<string> =>
  new Set([...markdown.matchAll(/^#{1,6} +(.+)$/gm)].map((m) => githubSlug(m[1]!.replace(/`/g, ''))));

describe('docs generated from the code', () => {
  it('docs/configuration.md and docs/errors.md are what npm run docs:gen writes', () => {
    assert.equal(page('configuration.md'), configurationPage(), 'run npm run docs:gen');
    assert.equal(page('errors.md'), errorsPage(), 'run npm run docs:gen');
  });

  it('every setting is declared once, with a meaning, and is on the configuration page', () => {
    const envs = settingList().map((s) => s.setting.env);
    assert.equal(new Set(envs).size, envs.length, 'no variable declared twice');
    const text = page('configuration.md');
    for (const { setting } of settingList()) {
      assert.ok(setting.doc.length > 10, `${setting.env} says what it does`);
      assert.ok(text.includes(`| \`${setting.env}\` |`), `${setting.env} on the page`);
    }
  });

  it('every error code has its own section, at the anchor the OpenAPI document links to', () => {
    const found = anchors(page('errors.md'));
    for (const code of Object.keys(ERRORS) as ErrorCode[]) assert.ok(found.has(errorDocsAnchor(code)), code);
  });

  it("every route's docs link names a page and a heading that exist", () => {
    const linked = ROUTES.filter((r) => r.docs);
    assert.ok(linked.length > 0);
    for (const r of linked) {
      const [file, anchor] = r.docs!.split('#') as [string, string | undefined];
      assert.ok(existsSync(join(ROOT, 'docs', file)), `${r.path}: docs/${file}`);
      if (anchor) assert.ok(anchors(page(file)).has(anchor), `${r.path}: docs/${r.docs}`);
    }
  });
});
