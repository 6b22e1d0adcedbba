/**
 * The console's building blocks for forms and values: a notice in a card, a labelled field, a form
 * whose buttons are disabled while it is submitted, and a value shown once with a copy button. Plain
 * DOM (web/shared/dom.ts): createElement and textContent only, for the page's Trusted Types CSP.
 */
import { h, type Child } from '../shared/dom.js';
import type { Locale } from '../shared/i18n.js';
import type { StringKey } from './strings.js';

/** A notice inside `where` (replacing the previous one there). */
export function show(where: HTMLElement, text: string, kind: 'ok' | 'error' | 'info' | 'dev' = 'info'): void {
  where.querySelector(':scope > .notice')?.remove();
  where.prepend(h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
}

let n = 0;
/** A labelled input. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): Node {
  input.id ||= `f${++n}`;
  return h('div', {}, h('label', { for: input.id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

export function form(onSubmit: (f: HTMLFormElement) => Promise<void>, ...children: Child[]): HTMLFormElement {
  const f = h('form', {}, ...children);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const buttons = [...f.querySelectorAll('button')];
    buttons.forEach((b) => (b.disabled = true));
    void onSubmit(f).finally(() => buttons.forEach((b) => (b.disabled = false)));
  });
  return f;
}

export const input = (name: string, attrs: Record<string, string | boolean> = {}) => h('input', { name, ...attrs });
export const value = (f: HTMLFormElement, name: string) => ((f.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
export const lines = (s: string) =>
  s
    .split(/[\n,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
export const dateOf = (iso: string | null | undefined, locale: Locale) =>
  iso ? new Date(iso).toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB') : '—';

/** A value shown once with a copy button. */
export function secretBox(app: { t: (k: StringKey) => string }, text: string, testId: string): Node {
  const btn = h('button', { type: 'button', class: 'secondary' }, app.t('copy'));
  btn.addEventListener('click', () => {
    void navigator.clipboard?.writeText(text).then(() => (btn.textContent = app.t('copied')));
  });
  return h('div', { class: 'secret' }, h('code', { 'data-test': testId }, text), btn);
}
