/**
 * inbox.js: `BloonioInbox.mount(element, {baseUrl, token})` mounts the operator inbox in any page
 * (the token is an operator token your backend mints with POST /api/v1/relay/mint/operator-token;
 * see InboxOptions for the rest). Returns `{unmount(), setToken(token)}`.
 *
 * On the relay's own page (/inbox#token=…) the script tag carries `data-auto-mount`: the token is
 * read from the URL fragment (never sent to a server, so never in a log), kept in sessionStorage so
 * a reload goes on working, and removed from the address bar.
 */
import { Inbox, type InboxOptions } from './inbox.js';

type Mounted = { unmount: () => void; setToken: (t: string) => void };

function mount(element: Element, opts: InboxOptions): Mounted {
  if (!element) throw new Error('BloonioInbox.mount: an element is required');
  if (!opts?.token) throw new Error('BloonioInbox.mount: an operator token is required');
  const inbox = new Inbox(element, { ...opts, baseUrl: (opts.baseUrl || location.origin).replace(/\/$/, '') });
  return { unmount: () => inbox.unmount(), setToken: (t) => inbox.setToken(t) };
}

declare global {
  interface Window {
    BloonioInbox?: { mount: typeof mount };
  }
}

window.BloonioInbox = { mount };

function autoMount(script: HTMLScriptElement): void {
  const KEY = 'bloonio:inbox-token';
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    try {
      sessionStorage.setItem(KEY, fromHash);
    } catch {
      /* not kept across reloads */
    }
    history.replaceState(null, '', location.pathname + location.search);
  }
  let token = fromHash;
  try {
    token ??= sessionStorage.getItem(KEY);
  } catch {
    /* no storage */
  }
  const page = new CSSStyleSheet();
  page.replaceSync('html,body{margin:0;height:100%;background:#fff}body{display:flex;flex-direction:column}bloonio-inbox{flex:1}');
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, page];
  const target = document.querySelector(script.dataset.autoMount || 'body') ?? document.body;
  if (!token) {
    const p = document.createElement('p');
    p.textContent = (document.documentElement.lang || 'fr').startsWith('en')
      ? 'No operator token: open this page with #token=… in the address.'
      : 'Aucun jeton d’opérateur : ouvrez cette page avec #token=… dans l’adresse.';
    target.appendChild(p);
    return;
  }
  const locale = script.dataset.locale;
  mount(target, { baseUrl: location.origin, token, ...(locale ? { locale } : {}) });
}

const script = document.currentScript as HTMLScriptElement | null;
if (script?.dataset.autoMount !== undefined && script) {
  const s = script;
  if (document.body) autoMount(s);
  else document.addEventListener('DOMContentLoaded', () => autoMount(s), { once: true });
}
