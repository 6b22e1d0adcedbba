/**
 * `npm run docs:check`: every relative link in the project's own Markdown resolves. Checked: README.md,
 * CONTRIBUTING.md and docs/**\/*.md. A link to a file must name a file or folder that exists; a link with
 * an anchor (`page.md#some-heading`, or `#some-heading` within the page) must name a heading of that page,
 * by GitHub's slug (lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats).
 * Absolute URLs (https:, mailto:) are not fetched: CI must not depend on other people's servers.
 * README.md must also stay under 10 KB: the front door, with the detail in docs/.
 * Exits 1 listing each broken link as file:line: target — reason.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** GitHub's heading slug (github-slugger): lower case, keep letters, digits, marks, `_`, `-` and spaces; spaces to `-`. */
export function slug(heading: string): string {
  const text = heading
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The text with fenced code blocks blanked (line count kept), so neither their `#` lines nor their links count. */
function withoutFences(md: string): string[] {
  let fence: string | null = null;
  return md.split('\n').map((line) => {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m?.[1] && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = null;
      return '';
    }
    if (m?.[1]) {
      fence = m[1];
      return '';
    }
    return line;
  });
}

/** Every anchor a page offers: its headings' slugs (repeats numbered as GitHub does) and explicit `id`/`name` anchors. */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(md)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h?.[1] !== undefined) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) if (a[1]) out.add(a[1]);
  }
  return out;
}

export type Link = { line: number; target: string };

/** Every link target of a page, outside code: inline links and images `[t](target)`, and reference definitions `[r]: target`. */
export function links(md: string): Link[] {
  const out: Link[] = [];
  withoutFences(md).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, (s) => ' '.repeat(s.length)); // inline code is not a link
    for (const m of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      if (m[1]) out.push({ line: i + 1, target: m[1] });
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (ref?.[1]) out.push({ line: i + 1, target: ref[1] });
  });
  return out;
}

/** Why a link from `file` does not resolve, or null when it does. `read` gives a Markdown page's text. */
export function brokenReason(file: string, target: string, read: (path: string) => string | null): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null; // absolute URL: not checked
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
  const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
  if (pathPart.startsWith('/')) return 'a root-relative link does not resolve on GitHub and in the docs site alike; link relatively';
  const dest = pathPart === '' ? file : resolve(dirname(file), pathPart);
  if (!existsSync(dest)) return 'no such file';
  if (anchor === null || anchor === '') return null;
  if (statSync(dest).isDirectory()) return 'an anchor on a folder';
  if (!dest.endsWith('.md')) return null; // an anchor into source (#L10) is GitHub's, not ours to check
  const text = read(dest);
  if (text === null) return 'unreadable';
  return anchors(text).has(anchor) ? null : `no heading with the anchor #${anchor}`;
}

/** The Markdown files checked: README.md, CONTRIBUTING.md and every .md under docs/. */
export function pages(root: string): string[] {
  const out = ['README.md', 'CONTRIBUTING.md'].map((f) => join(root, f)).filter((f) => existsSync(f));
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules' && !name.startsWith('.')) walk(p);
      } else if (name.endsWith('.md')) out.push(p);
    }
  };
  walk(join(root, 'docs'));
  return out;
}

/** README.md is the front door: a few screens, the rest belongs in docs/ (issue 22). */
export const README_MAX_BYTES = 10 * 1024;

/** Every broken link under root, as "file:line: target — reason", and a README over its budget. */
export function check(root: string): string[] {
  const cache = new Map<string, string | null>();
  const read = (p: string) => {
    if (!cache.has(p)) cache.set(p, existsSync(p) ? readFileSync(p, 'utf8') : null);
    return cache.get(p) ?? null;
  };
  const broken: string[] = [];
  for (const file of pages(root)) {
    for (const l of links(read(file) ?? '')) {
      const why = brokenReason(file, l.target, read);
      if (why) broken.push(`${relative(root, file)}:${l.line}: ${l.target} — ${why}`);
    }
  }
  const readme = join(root, 'README.md');
  if (existsSync(readme) && statSync(readme).size > README_MAX_BYTES)
    broken.push(`README.md: ${statSync(readme).size} bytes, over the front door's ${README_MAX_BYTES}; move the detail into docs/`);
  return broken;
}

function main(): number {
  const checked = pages(ROOT);
  const broken = check(ROOT);
  if (broken.length === 0) {
    console.log(`docs:check: every relative link and anchor resolves (${checked.length} pages); README.md within its budget`);
    return 0;
  }
  console.error(`docs:check: ${broken.length} broken link(s):`);
  for (const b of broken) console.error(`  ${b}`);
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main());
