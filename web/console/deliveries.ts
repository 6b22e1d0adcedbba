/** A tenant's recent callbacks and dead letters (with replay, for admins) on its console page. */
import { h } from '../shared/dom.js';
import { dateOf } from './forms.js';
import type { StringKey } from './strings.js';
import type { TenantPage } from './tenant-context.js';

export type Delivery = {
  delivery_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  created_at: string;
  dead_reason: string | null;
};

/** The table of deliveries; with `replay`, a replay button per row. */
function deliveryTable(
  { app, admin }: TenantPage,
  rows: Delivery[],
  empty: StringKey,
  replay: ((body: Record<string, string>) => void) | null,
): Node {
  if (!rows.length) return h('p', {}, app.t(empty));
  const withReplay = Boolean(replay && admin);
  return h(
    'table',
    { 'data-test': replay ? 'dead-letters' : 'deliveries' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, app.t('event')),
        h('th', {}, app.t('status')),
        h('th', {}, app.t('attempts')),
        h('th', {}, app.t('created')),
        withReplay ? h('th', {}, '') : null,
      ),
    ),
    h(
      'tbody',
      {},
      ...rows.map((d) =>
        h(
          'tr',
          {},
          h('td', {}, d.event_type, h('br'), h('code', {}, d.delivery_id)),
          h(
            'td',
            {},
            h('span', { class: `pill ${d.status}` }, d.status),
            d.dead_reason ? h('div', { class: 'hint' }, d.dead_reason) : null,
          ),
          h('td', {}, String(d.attempt_count)),
          h('td', {}, dateOf(d.created_at, app.locale)),
          withReplay
            ? h(
                'td',
                {},
                h(
                  'button',
                  { type: 'button', class: 'secondary', onclick: () => replay?.({ delivery_id: d.delivery_id }) },
                  app.t('replay'),
                ),
              )
            : null,
        ),
      ),
    ),
  );
}

export function deadLettersCard(page: TenantPage, dead: Delivery[]): HTMLElement {
  const { app, q, admin, reload } = page;
  const card = h('div', { class: 'card' });
  const replay = (body: Record<string, string>) =>
    void app.run(card, async () => {
      const r = await app.api.call<{ replayed: number }>('POST', '/replay/dead-letters', { query: q, body });
      app.flash = { text: app.t('replayed', { n: r.replayed }), kind: 'ok' };
      await reload();
    });
  card.append(
    h(
      'div',
      { class: 'row' },
      h('h2', {}, app.t('deadLetters')),
      admin && dead.length
        ? h('button', { type: 'button', class: 'secondary', onclick: () => replay({ from: '1970-01-01T00:00:00Z' }) }, app.t('replayAll'))
        : null,
    ),
    deliveryTable(page, dead, 'noDeadLetters', replay),
  );
  return card;
}

export function deliveriesCard(page: TenantPage, deliveries: Delivery[]): HTMLElement {
  const { app, reload } = page;
  return h(
    'div',
    { class: 'card' },
    h(
      'div',
      { class: 'row' },
      h('h2', {}, app.t('deliveries')),
      h('button', { type: 'button', class: 'secondary', onclick: () => void reload() }, app.t('refresh')),
    ),
    deliveryTable(page, deliveries, 'noDeliveries', null),
  );
}
