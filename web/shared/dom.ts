/**
 * DOM helpers for the browser bundles. Elements are built with createElement and textContent only,
 * never innerHTML: chat text is plain text (docs/contract.md §3.1), and pages under Trusted Types or a strict
 * CSP keep working. No inline `style` attributes either: styling is a constructed stylesheet adopted
 * by the shadow root (see `adopt`), which a Content-Security-Policy does not block.
 */
export type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = String(v ?? '');
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG = 'http://www.w3.org/2000/svg';

/** A 24×24 icon from one path, decorative (aria-hidden). */
export function icon(d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', 'currentColor');
  svg.appendChild(path);
  return svg;
}

export const ICONS = {
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Zm3 5v2h10V9H7Zm0 4v2h7v-2H7Z',
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4Z',
  send: 'M3 20.5v-6.2L12 12 3 9.7V3.5L22 12 3 20.5Z',
};

/**
 * Styles for a shadow root: constructed stylesheets (not governed by style-src, so they work under a
 * strict CSP). Browsers without them (Safari before 16.4) get a <style> element instead.
 */
export function adopt(root: ShadowRoot, css: string[]): void {
  try {
    root.adoptedStyleSheets = css.map((c) => {
      const s = new CSSStyleSheet();
      s.replaceSync(c);
      return s;
    });
  } catch {
    for (const c of css) root.appendChild(h('style', {}, c));
  }
}

/** An element name of our own (not a div: host pages style divs), with a closed-to-the-page shadow root. */
export function shadowHost(tag: string): { host: HTMLElement; root: ShadowRoot } {
  const host = document.createElement(tag);
  const root = host.attachShadow({ mode: 'open' });
  return { host, root };
}

let uid = 0;
export const nextId = (prefix: string) => `${prefix}-${++uid}-${Math.random().toString(36).slice(2, 7)}`;
