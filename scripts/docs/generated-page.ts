/**
 * Writes a generated docs page, or with `--check` compares it with the committed one and fails
 * when they differ (so CI catches a table changed without its page). Shared by the gen-* scripts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The banner every generated page opens with: where it comes from and how to regenerate it. */
export const generatedBanner = (source: string, script: string): string =>
  `<!-- Generated from ${source} by ${script}: edit that, then run \`npm run docs:gen\`. -->`;

/** A cell of a Markdown table: pipes escaped, line breaks folded. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** `docs/x.md` mentioned in text from the code becomes a link relative to a page in docs/. */
export const linkDocs = (text: string): string =>
  text.replace(/\bdocs\/([\w/.-]+?\.md)(#[\w-]+)?/g, (_m, page: string, anchor: string | undefined) => `[${page}](${page}${anchor ?? ''})`);

/** Writes `page` (a path under the repository) or, with --check, exits 1 if the file differs. */
export function writeOrCheck(page: string, content: string, argv = process.argv.slice(2)): void {
  const file = join(ROOT, page);
  if (argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // A missing page differs from any content.
    }
    if (committed !== content) {
      console.error(`${relative(ROOT, file)} is out of date: run \`npm run docs:gen\` and commit it.`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(file, content);
}

/** True when the module at `moduleUrl` is the script node was started with (not imported, e.g. by a test). */
export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);

/** GitHub's heading anchors (the docs site uses the same, docs/.vitepress/config.mts). */
export const githubSlug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
