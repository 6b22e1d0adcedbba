/**
 * The authenticator-app card of the security page: off → enrol (the QR code and the key shown once)
 * → confirm with a first code → the recovery codes shown once, until "I have saved these codes" is
 * ticked; on → remove (password and a code).
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { field, form, input, secretBox, value } from './forms.js';

type Enrolment = { secret: string; otpauth_url: string; qr_data_url: string };

export function totpCard(app: App): Node {
  const card = h('div', { class: 'card', 'data-test': 'totp' }, h('h2', {}, app.t('totp')));
  const a = app.account;
  if (a?.totp_enabled) {
    card.append(h('p', {}, app.t('totpOn', { n: a.recovery_codes_left })), removeForm(app, card));
    return card;
  }
  const start = h('button', { type: 'button', 'data-test': 'totp-setup' }, app.t('totpSetup'));
  start.addEventListener('click', () => void app.run(card, () => enrol(app, card)));
  card.append(h('p', {}, app.t('totpOff')), start);
  return card;
}

function removeForm(app: App, card: HTMLElement): Node {
  return form(
    async (f) =>
      app.run(card, async () => {
        await app.api.call('POST', '/remove/totp', { body: { password: value(f, 'password'), code: value(f, 'code') } });
        app.flash = { text: app.t('totpRemoved'), kind: 'ok' };
        await app.render();
      }),
    h(
      'div',
      { class: 'grid' },
      field(app.t('password'), input('password', { type: 'password', autocomplete: 'current-password', required: true })),
      field(app.t('code'), input('code', { autocomplete: 'one-time-code', required: true })),
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'danger' }, app.t('totpRemove'))),
  );
}

/** The key, as a QR code and as text, and the form for the first code. */
async function enrol(app: App, card: HTMLElement): Promise<void> {
  const e = await app.api.call<Enrolment>('POST', '/enrol/totp');
  clear(card);
  card.append(
    h('h2', {}, app.t('totp')),
    h('p', {}, app.t('totpScan')),
    h('img', { class: 'qr', src: e.qr_data_url, alt: 'QR code', 'data-test': 'totp-qr' }),
    h('label', {}, app.t('totpSecret')),
    secretBox(app, e.secret, 'totp-secret'),
    form(
      async (f) =>
        app.run(card, async () => {
          const r = await app.api.call<{ recovery_codes: string[] }>('POST', '/confirm/totp', { body: { code: value(f, 'code') } });
          recoveryCodes(app, card, r.recovery_codes);
        }),
      field(
        app.t('code'),
        input('code', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, 'data-test': 'totp-code' }),
      ),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('totpConfirm'))),
    ),
  );
}

/** The recovery codes, once: "continue" only after "I have saved these codes" is ticked. */
function recoveryCodes(app: App, card: HTMLElement, codes: string[]): void {
  clear(card);
  const done = h('button', { type: 'button', disabled: true, onclick: () => void app.render() }, app.t('continue'));
  const check = h('input', { type: 'checkbox', id: 'saved-codes' });
  check.addEventListener('change', () => (done.disabled = !check.checked));
  card.append(
    h('h2', {}, app.t('recoveryTitle')),
    h('p', {}, app.t('recoveryText')),
    h('ol', { class: 'codes', 'data-test': 'recovery-codes' }, ...codes.map((c) => h('li', {}, c))),
    h('div', { class: 'row' }, h('label', { for: 'saved-codes' }, check, app.t('savedCodes')), done),
  );
}
