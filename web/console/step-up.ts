/**
 * The step-up dialog: a sensitive action refused for want of a recent password or code (403
 * STEP_UP_REQUIRED) asks for one in a modal dialog, then App.run runs the action again.
 */
import { h } from '../shared/dom.js';
import { RelayError } from '../shared/http.js';
import type { ConsoleApi } from './api.js';
import { field, form, input, show, value } from './forms.js';
import type { StringKey } from './strings.js';

type StepUpDeps = { api: ConsoleApi; t: (k: StringKey) => string; totp: boolean };

/** Asks for the password (or, with an authenticator app, a code) in a modal dialog; true once the relay accepted it. */
export function stepUpDialog({ api, t, totp }: StepUpDeps): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'data-test': 'step-up', 'aria-labelledby': 'step-up-title' });
    const finish = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const f = form(
      async (el) => {
        const code = value(el, 'code');
        const body = code ? { code } : { password: (el.elements.namedItem('password') as HTMLInputElement).value };
        try {
          await api.call('POST', '/reauthenticate', { body });
          finish(true);
        } catch (err) {
          show(f, err instanceof RelayError ? err.message : String(err), 'error');
        }
      },
      h('h2', { id: 'step-up-title' }, t('stepUpTitle')),
      h('p', {}, t(totp ? 'stepUpTextTotp' : 'stepUpText')),
      field(t('password'), input('password', { type: 'password', autocomplete: 'current-password' })),
      totp ? field(t('code'), input('code', { autocomplete: 'one-time-code', 'data-test': 'step-up-code' })) : null,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, t('confirm')),
        h('button', { type: 'button', class: 'secondary', onclick: () => finish(false) }, t('cancel')),
      ),
    );
    dialog.addEventListener('cancel', () => finish(false));
    dialog.appendChild(f);
    document.body.appendChild(dialog);
    dialog.showModal();
    (f.querySelector('input') as HTMLInputElement | null)?.focus();
  });
}
