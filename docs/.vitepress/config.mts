/**
 * The docs site: `npm run docs` builds docs/ into a static site (docs/.vitepress/dist, git-ignored)
 * with VitePress; `npm run docs:dev` serves it with live reload. The build fails on a link to a page
 * that does not exist. Pages are plain Markdown that also reads well on a code host, so two things
 * follow the code host's rules: heading anchors are GitHub's (docs/errors.md#rate_limited), and a
 * link out of docs/ to a source file stays a link only when DOCS_REPO_URL says where the files are
 * browsed (e.g. https://github.com/<owner>/<repo>/blob/main); otherwise it becomes its text.
 */
import { posix } from 'node:path';
import { defineConfig } from 'vitepress';

/** GitHub's heading anchors: lower case, punctuation dropped (but - and _), spaces to hyphens. */
const githubSlug = (text: string): string =>
  text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');

const repoUrl = process.env.DOCS_REPO_URL?.replace(/\/+$/, '');

interface LinkToken {
  type: string;
  content: string;
  attrGet(name: string): string | null;
  attrSet(name: string, value: string): void;
  children: LinkToken[] | null;
}

/** Turns a link's open or close token into empty text: the link's own text stays. */
const unlink = (t: LinkToken): void => {
  t.type = 'text';
  t.content = '';
};

/** A relative link that leaves docs/ (to the source tree) → the repository browser, or plain text. */
function linksOutOfDocs(md: { core: { ruler: { push(name: string, fn: (state: unknown) => void): void } } }): void {
  md.core.ruler.push('links-out-of-docs', (state) => {
    const { tokens, env } = state as { tokens: LinkToken[]; env: { relativePath?: string } };
    const page = env.relativePath ?? 'index.md';
    for (const block of tokens) {
      const children = block.children ?? [];
      const open: boolean[] = [];
      for (const t of children) {
        if (t.type === 'link_open') {
          open.push(false);
          const href = t.attrGet('href') ?? '';
          if (/^[a-z][a-z0-9+.-]*:|^#|^\//i.test(href)) continue;
          const target = posix.normalize(posix.join(posix.dirname(page), href));
          if (!target.startsWith('../')) continue;
          const path = target.slice(3);
          if (repoUrl) t.attrSet('href', `${repoUrl}/${path}`);
          else {
            unlink(t);
            open[open.length - 1] = true;
          }
        } else if (t.type === 'link_close') {
          if (open.pop()) unlink(t);
        }
      }
    }
  });
}

export default defineConfig({
  title: 'Bloonio Relay',
  description: 'Delegated strong authentication (Auth Relay) and multi-tenant chat (Chat Relay) on one signed, queue-driven platform.',
  cleanUrls: true,
  lastUpdated: false,
  // Links to a relay running on this machine (the demo pages of `npm start`) are meant, not dead;
  // every other dead link fails the build.
  ignoreDeadLinks: 'localhostLinks',
  markdown: {
    anchor: { slugify: githubSlug },
    config: (md) => linksOutOfDocs(md as unknown as Parameters<typeof linksOutOfDocs>[0]),
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'Reference', link: '/configuration' },
      { text: 'Contract', link: '/contract' },
    ],
    sidebar: [
      {
        text: 'Start',
        items: [
          { text: 'Overview', link: '/' },
          { text: 'Getting started', link: '/getting-started' },
        ],
      },
      {
        text: 'Products',
        items: [
          { text: 'Auth Relay', link: '/auth-relay' },
          { text: 'Chat Relay', link: '/chat-relay' },
          { text: 'Console', link: '/console' },
        ],
      },
      {
        text: 'Concepts',
        items: [
          { text: 'Tenancy', link: '/concepts/tenancy' },
          { text: 'HMAC signatures', link: '/concepts/hmac' },
          { text: 'Callbacks', link: '/concepts/callbacks' },
        ],
      },
      {
        text: 'Running it',
        items: [
          { text: 'Architecture', link: '/architecture' },
          { text: 'Operations', link: '/operations' },
          { text: 'Security model', link: '/security' },
          { text: 'Benchmarks', link: '/benchmarks' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'Configuration', link: '/configuration' },
          { text: 'Errors', link: '/errors' },
          { text: 'API notes', link: '/api' },
          { text: 'Glossary', link: '/glossary' },
          { text: 'Product contract', link: '/contract' },
        ],
      },
    ],
    outline: [2, 3],
    search: { provider: 'local' },
  },
});
