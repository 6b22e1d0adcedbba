/**
 * Rewrites the code's citations of the product contract from "SPEC §x" (a file that was never in the
 * repository) to "docs/contract.md §x" (the copy that is), so a reader can follow every citation.
 *
 *   npx tsx scripts/docs/cite-contract.ts           rewrite in place, print each file changed
 *   npx tsx scripts/docs/cite-contract.ts --check   change nothing; exit 1 listing every citation left
 *
 * Variants rewritten: "SPEC §2.4", "(SPEC §3.1)", "SPEC.md §1.2", "SPEC §§2.1–2.3", "SPEC: at most …".
 * Only the word SPEC (or SPEC.md) is replaced; the section numbers after it are kept as written, and
 * docs/contract.md keeps SPEC's section numbers and headings, so every citation still points at the
 * same text. Identifiers that merely contain SPEC (UNSPECIFIED_ERROR, _SPEC_VALUES) are left alone.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The source folders that cite the contract. */
export const DIRS = ['api', 'models', 'platform', 'workers', 'queues', 'scripts', 'web', 'sdk', 'test'];
const EXTENSIONS = /\.(ts|cts|mts|js|cjs|mjs|py|sh|lua|toml|json|md|html|css)$/;
/** Build output, dependencies and caches: not source, and not ours to rewrite. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '__pycache__', '.mypy_cache', '.ruff_cache', '.pytest_cache', '.venv', 'venv']);

/** "SPEC" or "SPEC.md" as a whole word, followed by a § or a colon: a citation, not an identifier. */
const CITATION = /(?<![\w.$/-])SPEC(?:\.md)?(?=\s*(?:§|:\s))/g;
export const TARGET = 'docs/contract.md';

/** The text with every citation of SPEC rewritten to docs/contract.md. */
export function rewriteCitations(text: string): string {
  return text.replace(CITATION, TARGET);
}

/** Every citation left in the text: line number (1-based) and the line. */
export function findCitations(text: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  text.split('\n').forEach((l, i) => {
    CITATION.lastIndex = 0;
    if (CITATION.test(l)) found.push({ line: i + 1, text: l.trim() });
  });
  CITATION.lastIndex = 0;
  return found;
}

/** Every source file under the given folders (relative to root), skipping build output and caches. */
export function sourceFiles(root: string, dirs: readonly string[] = DIRS): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // a folder this checkout does not have
    }
    for (const name of names.sort()) {
      if (SKIP_DIRS.has(name)) continue;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && EXTENSIONS.test(name)) out.push(path);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const self = fileURLToPath(import.meta.url);
  let changed = 0;
  const left: string[] = [];
  for (const file of sourceFiles(ROOT)) {
    // This script and its test spell the old citation on purpose.
    if (file === self || file.startsWith(self.replace(/\.ts$/, '.'))) continue;
    const text = readFileSync(file, 'utf8');
    const rel = relative(ROOT, file);
    if (check) {
      for (const c of findCitations(text)) left.push(`${rel}:${c.line}: ${c.text}`);
      continue;
    }
    const next = rewriteCitations(text);
    if (next !== text) {
      writeFileSync(file, next);
      changed += 1;
      console.log(`rewrote ${rel}`);
    }
  }
  if (check) {
    if (left.length === 0) return 0;
    console.error(`${left.length} citation(s) of SPEC left; cite ${TARGET} instead (npx tsx scripts/docs/cite-contract.ts rewrites them):`);
    for (const l of left) console.error(`  ${l}`);
    return 1;
  }
  console.log(`${changed} file(s) rewritten`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main(process.argv.slice(2)));
